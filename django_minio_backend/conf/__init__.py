"""What the user configured: options, where they come from, aliases and the bucket plan.

Nothing here makes a request or imports a storage class.
"""
