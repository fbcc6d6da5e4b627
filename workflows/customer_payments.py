"""Money the customer owes before a shipment, collected through the merchant's payment provider
(issue 18 point 2): the step `_collect_owed`, the staff's quote (`request_customer_payment`) and
the provider's notice (`customer_paid`). `ReturnWorkflow` calls `_collect_owed` when a shipment to
the customer waits (`_ship_back`); its state is set up in ReturnWorkflow.__init__.

    owed (returns/owed.py)? ─► amount known (fees) or quoted by staff ─► payment page created
       (create_customer_payment, key <workflow id>:collect:<state>:<n>) ─► customer emailed the link
       ─► paid: Stripe's webhook (signal customer_paid) or the hourly check (check_customer_payment)
       ─► staff ship. A page that expired is made again (n+1); staff may instead record a payment
       made another way (ship_to_customer customer_payment), which ends the wait.

A merchant without a provider (the activity answers provider=None), or a provider that refuses,
leaves the payment to staff as before: ship_to_customer with customer_payment.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import owed_payments as op
    from returns.actions import ActionResult
    from returns.collection import (
        PaymentNotice, RequestCustomerPayment, amount_known, notice_problem, payment_description,
        quote_problem, waiting_text,
    )
    from returns.owed import owed_before, owed_text
    from returns.status import (
        DEADLINE_LABELS, AttentionCause, DeadlineKind as Kind, OwedPayment, ReturnState as State,
        WaitingOn,
    )
    from workflows import names
    from workflows.return_effects import ReturnEffects, SHORT_STEP, ATTEMPT, why
    from workflows.return_messages import refused

# The fallback when no webhook comes: ask the provider this often while the customer has not paid.
CHECK_EVERY = timedelta(hours=1)
# Pages made for one shipment before staff take over (a Stripe page lasts 24 hours: three days).
MAX_PAGES = 3


class CustomerPayments(ReturnEffects):
    owed_payment: OwedPayment | None
    payment_quote: tuple[State, RequestCustomerPayment] | None  # staff's quote, for that state
    payment_pages: int  # pages made so far: the next one's step number

    # ---------------------------------------------------------------- the step
    async def _collect_owed(self, state: State, deadline: Kind | None = None) -> None:
        """Ask the customer to pay what they owe before the shipment of `state`, through the
        merchant's provider; returns once paid, or when staff take it over (a payment recorded on
        the shipment, or no provider). Staff who leave an amount unquoted past the shipment's
        `deadline` are escalated to, as for the shipment itself."""
        owed = owed_before(state, self.decision, self.items)
        if not owed:
            return
        self.owed_payment = None  # a previous shipment's
        if self.payment_quote is not None and self.payment_quote[0] != state:
            self.payment_quote = None
        self._publish()
        amount = amount_known(owed)
        if amount is None:  # the policy leaves the amount to staff (004 §4.4, §3.7)
            quoted = lambda: self.payment_quote is not None or self.shipment is not None  # noqa: E731
            if deadline is not None and not await self._before_deadline(quoted, deadline):
                await self._escalate(deadline, f"{DEADLINE_LABELS[deadline]} has passed; quote "
                                               "what the customer owes (request_customer_payment)"
                                               " or record their payment")
            await self._wait(quoted)
            if self.shipment is not None:
                return
            amount = self.payment_quote[1].amount
        first = self.payment_pages
        while self.shipment is None:
            offer = await self._payment_page(state, amount, owed)
            if offer is None:
                self._publish()
                return  # staff record it on the shipment, as the status card says
            if await self._await_payment():
                break
            self._record("payment provider", "payment page expired", offer.payment_id or "")
            if self.payment_pages - first >= MAX_PAGES:
                await self._payment_to_staff(f"the customer has not paid "
                                             f"{self._money(amount)} on {MAX_PAGES} payment pages")
                break
        if self.attention_cause == AttentionCause.customer_payment:  # staff settle it by hand
            self.waiting_on = WaitingOn.staff
            await self._wait(lambda: self.shipment is not None)
            self._resolved("the shipment was recorded")
        self.waiting_on = WaitingOn.staff
        self._publish()
        if self.owed_payment is not None and self.owed_payment.paid and self.shipment is None:
            await self._notify_staff("action_needed", message=(
                f"The customer paid what they owed: {waiting_text(self.owed_payment)}. "
                f"Ship it now (ship_to_customer; no customer_payment needed)."))

    async def _payment_page(self, state: State, amount: int, owed) -> op.PaymentOffer | None:
        """A provider's page for `amount`, the customer emailed its link; None: no provider."""
        currency = self.decision.currency
        page = self.payment_pages + 1  # counted once tried (request_customer_payment waits on it)
        key = f"{workflow.info().workflow_id}:collect:{state.value}:{page}"
        why_owed = payment_description(owed)
        try:
            offer = await workflow.execute_activity(
                op.CREATE_CUSTOMER_PAYMENT, op.PaymentRequest(
                    idempotency_key=key, merchant_id=self.request.merchant_id,
                    return_id=self.request.return_id, order_id=self.request.order.order_id,
                    amount=amount, currency=currency, description=why_owed,
                    locale=self.request.order.customer.locale),
                result_type=op.PaymentOffer, start_to_close_timeout=ATTEMPT,
                retry_policy=SHORT_STEP, summary=f"customer payment page {self._money(amount)}")
        except ActivityError as err:
            self.payment_pages, self.owed_payment = page, None  # staff collect it
            self._record("payment provider", "payment page not created; staff collect it",
                         why(err))
            await self._notify_staff("action_needed", message=(
                f"The customer's payment page could not be created ({why(err)}). Collect "
                f"{self._money(amount)} from them and record it: ship_to_customer "
                f"customer_payment."))
            return None
        if offer.provider is None or not offer.url:
            self.payment_pages, self.owed_payment = page, None
            self._record("system", "no payment provider collects for this merchant",
                         "staff record the customer's payment on the shipment")
            return None
        self.owed_payment = OwedPayment(
            amount=amount, currency=currency, why=why_owed, provider=offer.provider,
            payment_id=offer.payment_id, collect_key=key, url=offer.url,
            expires_at=offer.expires_at)
        self.payment_pages = page
        self.waiting_on = WaitingOn.customer_payment
        self._record("payment provider", "customer asked to pay",
                     f"{self._money(amount)} ({offer.payment_id}): {why_owed}")
        self._publish()
        await self._notify("payment_requested", payment_url=offer.url,
                           message=owed_text(owed, currency) if self.payment_quote is None else
                           f"{self._money(amount)}: {why_owed}")
        return offer

    async def _await_payment(self) -> bool:
        """Until the customer paid (True), staff recorded a shipment (True), or the page expired
        (False). Stripe's webhook signals `customer_paid`; without it the provider is asked every
        CHECK_EVERY."""
        done = lambda: self.owed_payment.paid or self.shipment is not None  # noqa: E731
        while not await self._wait(done, workflow.now() + CHECK_EVERY, "the customer's payment"):
            try:
                check = await workflow.execute_activity(
                    op.CHECK_CUSTOMER_PAYMENT, op.PaymentCheckRequest(
                        merchant_id=self.request.merchant_id,
                        payment_id=self.owed_payment.payment_id),
                    result_type=op.PaymentCheck, start_to_close_timeout=ATTEMPT,
                    retry_policy=SHORT_STEP, summary="is the customer's payment in?")
            except ActivityError as err:
                self._record("payment provider", "payment check failed", why(err))
                continue
            if check.status == "paid":
                if not self._customer_paid(PaymentNotice(
                    event_id=f"check:{self.owed_payment.payment_id}", provider="stripe",
                    merchant_id=self.request.merchant_id, return_id=self.request.return_id,
                    collect_key=self.owed_payment.collect_key,
                    payment_intent=check.payment_intent or "", currency=check.currency or "",
                    amount_received=check.amount_received), "payment provider (check)"):
                    await self._payment_to_staff("the payment page was paid, but not as asked: "
                                                 + self.audit[-1].detail)
                    return True
            elif check.status == "expired" and not done():
                self.owed_payment.url = None
                return False
        return True

    def _customer_paid(self, notice: PaymentNotice, actor: str) -> bool:
        problem = notice_problem(self.owed_payment, notice, self.request.merchant_id,
                                 self.request.return_id)
        if problem:  # recorded for staff to see; nothing else changes
            self._record(actor, "payment notice ignored", problem)
            return False
        self.owed_payment.paid = True
        self.owed_payment.reference = notice.payment_intent
        self.owed_payment.url = None
        self._record(actor, "customer paid", waiting_text(self.owed_payment))
        self._publish()
        return True

    async def _payment_to_staff(self, why_not: str) -> None:
        """No more pages: staff settle it with the customer and record it on the shipment."""
        if self.owed_payment is not None:
            self.owed_payment.url = None
        self._attention(f"{why_not}; reach the customer, then record their payment on "
                        f"ship_to_customer (customer_payment) or cancel",
                        AttentionCause.customer_payment)
        await self._notify_staff("escalation", message=self.attention)

    # ---------------------------------------------------------------- messages
    @workflow.signal(name=names.SIGNAL_CUSTOMER_PAID,
                     description="The payment provider's verified webhook: the customer paid "
                                 "what they owe (PaymentNotice). A notice for another merchant, "
                                 "return or page, or of another amount or currency, changes "
                                 "nothing but the audit.")
    async def customer_paid(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        notice = await self._read(payload, PaymentNotice, "payment notice")
        if notice is None or self._seen(notice.event_id):
            return
        self._customer_paid(notice, f"{notice.provider} webhook")

    @workflow.update(name=names.UPDATE_REQUEST_CUSTOMER_PAYMENT,
                     description="Quote what the customer owes before this shipment (price "
                                 "difference, reshipping, shipping back; the status card lists "
                                 "it): {actor, amount (minor units), note?}. Where the merchant "
                                 "collects through Stripe the customer is sent a payment page.")
    async def request_customer_payment(self, action: RequestCustomerPayment) -> ActionResult:
        self.payment_quote = (self.state, action)
        self._record(action.actor, "customer payment quoted",
                     f"{self._money(action.amount)}" + (f": {action.note}" if action.note else ""))
        pages = self.payment_pages
        await workflow.wait_condition(lambda: self.payment_pages > pages
                                      or self.shipment is not None or self._stopping())
        if self.owed_payment is not None and self.owed_payment.url:
            return self._result(f"the customer is sent a payment page for "
                                f"{self._money(action.amount)}; the return waits for it")
        return self._result("no payment provider collects for this merchant: collect "
                            f"{self._money(action.amount)} and record it with ship_to_customer "
                            "customer_payment")

    @request_customer_payment.validator
    def _validate_request_customer_payment(self, action: RequestCustomerPayment) -> None:
        problem = quote_problem(
            self.state, owed_before(self.state, self.decision, self.items)
            if self.decision else [], self.decision.currency if self.decision else "",
            action, self.owed_payment, self.shipment is not None)
        owed = owed_before(self.state, self.decision, self.items) if self.decision else []
        if problem is None and amount_known(owed) is not None:
            problem = ("amount: the policy states every amount owed (fees): the customer is asked "
                       "for them without a quote")
        if problem is None and self.payment_quote is not None \
                and self.payment_quote[0] == self.state:
            problem = "amount: a quote is already being sent to the customer; reload the return"
        if problem:
            raise refused(problem)
