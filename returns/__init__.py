"""Pure domain code for merchandise returns: events, money, states, operator actions, policy.

Nothing in this package imports Temporal; it is tested in milliseconds and imported by the
workflow through `imports_passed_through`.
"""
