"""The case screens, one module per topic; casework/urls.py names each view by its module."""
