import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from casework.audit.roles import refuse_to_serve_if_unbound  # noqa: E402

refuse_to_serve_if_unbound()  # with DATABASE_APP_ROLE set: never serve as a role that can shorten the log
