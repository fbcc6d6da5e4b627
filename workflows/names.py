"""Names the outside world uses to reach a return workflow (starter, CLI, UI docs)."""

WORKFLOW_TYPE = "ReturnWorkflow"
DELIVERIES_WORKFLOW_TYPE = "ReturnDeliveries"  # one per return: its events to the order system

# signals
SIGNAL_WITHDRAW = "withdraw"  # ReturnWithdrawn event from the order system
SIGNAL_PARCEL_SCANNED = "parcel_scanned"  # ParcelScanned event from carrier tracking
SIGNAL_WAREHOUSE_RECEIPT = "warehouse_receipt"  # WarehouseReceipt from warehouse staff
SIGNAL_DELIVERY = "delivery"  # DeliveryNews from the return's deliveries workflow
SIGNAL_RETURN_EVENT = "return_event"  # to the deliveries workflow: one ReturnEvent to send
SIGNAL_CUSTOMER_PAID = "customer_paid"  # PaymentNotice from the payment provider's webhook

# updates (operator decisions)
UPDATE_APPROVE = "approve"
UPDATE_REJECT = "reject"
UPDATE_REQUEST_INFO = "request_info"
UPDATE_RECORD_INSPECTION = "record_inspection"
UPDATE_EXTEND_DEADLINE = "extend_deadline"
UPDATE_CANCEL = "cancel"
UPDATE_RETRY_REFUND = "retry_refund"
UPDATE_RECORD_MANUAL_REFUND = "record_manual_refund"
UPDATE_SHIP_TO_CUSTOMER = "ship_to_customer"
UPDATE_ACKNOWLEDGE = "acknowledge"
UPDATE_RECORD_EVIDENCE = "record_evidence"  # the customer page: a photo or video stored
UPDATE_ANSWER_QUESTION = "answer_question"  # the customer answers request_info (customer page)
UPDATE_REQUEST_CUSTOMER_PAYMENT = "request_customer_payment"  # staff quote what the customer owes

# query
QUERY_STATUS = "status"

# ApplicationError type of a refused operator action (validators). Its message names the problem and
# carries no personal data, so it stays readable in the Web UI (runtime/converter.py).
ACTION_REFUSED = "ActionRefused"
