"""The customer's page of one return: a signed link, the page, the customer's own actions."""
