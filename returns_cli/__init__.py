"""`returns`: the warehouse and operations command line (list, show, receive, inspect, approve, reject)."""
