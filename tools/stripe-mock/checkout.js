// Checkout Sessions and PaymentIntents for stripe-stateful-mock, which (0.0.16, its last release)
// has neither. Only what the collection adapter (activities/stripe_checkout.py) uses, answering
// with the fields and errors Stripe's API reference documents for them:
//   POST /v1/checkout/sessions                  mode=payment, line_items[].price_data, metadata,
//                                               payment_intent_data[metadata], success_url,
//                                               expires_at; replayed per Idempotency-Key by the
//                                               mock's own middleware
//   GET  /v1/checkout/sessions/:id              status open | complete | expired,
//                                               payment_status unpaid | paid, payment_intent, url
//   POST /v1/checkout/sessions/:id/expire       Stripe's own "expire a session"
//   GET  /v1/payment_intents/:id                the intent made when the session was paid
// and one route Stripe does not have, standing for the customer paying on the hosted page:
//   POST /v1/test_helpers/checkout/sessions/:id/pay   -> the session completes and its
//                                               PaymentIntent succeeds (amount_received = total)
const express = require("express");
const {generateId} = require("stripe-stateful-mock/dist/api/utils");

const sessions = new Map(); // "<account>:<id>" -> session
const intents = new Map();

function account(req) {
    return req.header("stripe-account") || "acct_default";
}

function fail(res, status, message, param, code) {
    const error = {type: "invalid_request_error", message};
    if (param) error.param = param;
    if (code) error.code = code;
    return res.status(status).json({error});
}

function missing(res, kind, id) {
    return fail(res, 404, `No such ${kind}: '${id}'`, "id", "resource_missing");
}

function positiveInt(value) {
    return /^[0-9]+$/.test(String(value)) && Number(value) > 0;
}

const routes = express.Router();

routes.post("/v1/checkout/sessions", (req, res) => {
    const p = req.body || {};
    if (p.mode !== "payment") {
        return fail(res, 400, "This mock supports mode=payment only", "mode");
    }
    if (!p.success_url) {
        return fail(res, 400, "Missing required param: success_url.", "success_url",
            "parameter_missing");
    }
    const items = Array.isArray(p.line_items) ? p.line_items
        : Object.values(p.line_items || {});
    if (!items.length) {
        return fail(res, 400, "Missing required param: line_items.", "line_items",
            "parameter_missing");
    }
    let total = 0;
    let currency = null;
    for (const [n, item] of items.entries()) {
        const price = item.price_data || {};
        if (!positiveInt(price.unit_amount)) {
            return fail(res, 400, "Invalid positive integer",
                `line_items[${n}][price_data][unit_amount]`, "parameter_invalid_integer");
        }
        if (!price.currency || !(price.product_data || {}).name) {
            return fail(res, 400, "Missing required param: currency or product_data[name].",
                `line_items[${n}][price_data]`, "parameter_missing");
        }
        if (currency && currency !== price.currency.toLowerCase()) {
            return fail(res, 400, "All line items must use the same currency.",
                `line_items[${n}][price_data][currency]`);
        }
        currency = price.currency.toLowerCase();
        total += Number(price.unit_amount) * Number(item.quantity || 1);
    }
    const id = "cs_test_" + generateId(24);
    const now = (Date.now() / 1000) | 0;
    const session = {
        id, object: "checkout.session", mode: "payment", status: "open",
        payment_status: "unpaid", amount_total: total, amount_subtotal: total, currency,
        created: now, expires_at: Number(p.expires_at || now + 24 * 3600),
        metadata: p.metadata || {}, client_reference_id: p.client_reference_id || null,
        success_url: p.success_url, cancel_url: p.cancel_url || null,
        payment_intent: null, livemode: false,
        url: `https://checkout.stripe.com/c/pay/${id}`,
        _intent_metadata: (p.payment_intent_data || {}).metadata || {},
    };
    sessions.set(`${account(req)}:${id}`, session);
    return res.status(200).json(shown(session));
});

function shown(session) {
    const {_intent_metadata, ...rest} = session;
    return rest;
}

function session(req, res) {
    const found = sessions.get(`${account(req)}:${req.params.id}`);
    if (!found) missing(res, "checkout.session", req.params.id);
    return found;
}

routes.get("/v1/checkout/sessions/:id", (req, res) => {
    const s = session(req, res);
    if (s) res.status(200).json(shown(s));
});

routes.post("/v1/checkout/sessions/:id/expire", (req, res) => {
    const s = session(req, res);
    if (!s) return;
    if (s.status !== "open") {
        return fail(res, 400, `Only Checkout Sessions with a status in ["open"] can be expired. ` +
            `This Checkout Session has a status of "${s.status}".`);
    }
    s.status = "expired";
    s.url = null;
    return res.status(200).json(shown(s));
});

routes.post("/v1/test_helpers/checkout/sessions/:id/pay", (req, res) => {
    const s = session(req, res);
    if (!s) return;
    if (s.status !== "open") {
        return fail(res, 400, `The Checkout Session is ${s.status}: it cannot be paid.`);
    }
    const id = "pi_" + generateId(24);
    const intent = {
        id, object: "payment_intent", amount: s.amount_total, amount_received: s.amount_total,
        currency: s.currency, status: "succeeded", created: (Date.now() / 1000) | 0,
        metadata: s._intent_metadata, livemode: false,
        latest_charge: "ch_" + generateId(24),
    };
    intents.set(`${account(req)}:${id}`, intent);
    s.status = "complete";
    s.payment_status = "paid";
    s.payment_intent = id;
    s.url = null;
    return res.status(200).json(shown(s));
});

routes.get("/v1/payment_intents/:id", (req, res) => {
    const found = intents.get(`${account(req)}:${req.params.id}`);
    if (!found) return missing(res, "payment_intent", req.params.id);
    return res.status(200).json(found);
});

module.exports = {routes};
