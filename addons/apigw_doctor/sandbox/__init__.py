"""A local API Gateway + Cognito sandbox that answers as AWS does, byte for byte (see responses.py)."""
