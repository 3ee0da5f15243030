"""A one-app Django project served by uvicorn (ASGI) and waitress (WSGI) in the serving tests."""
