"""What the server's ``send`` raises once the client has gone."""

# Uvicorn raises ClientDisconnected, an OSError.
CLIENT_GONE = (OSError,)
