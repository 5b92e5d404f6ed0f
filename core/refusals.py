"""A refused form goes back to the page that shows it, with what was typed and its errors.

A form posted to an action URL of its own (a meeting's decision, a referral's move or stage) is shown by
another page. When the action refuses it, the view calls `refuse(...)`: the submitted fields and the
errors are kept in the session under a key naming the form and its object, and the browser is redirected
to the page (Post/Redirect/Get), so the address bar shows the page, a reload does not post again, and the
message appears once, in the form. The page's view calls `refused_form(...)` to build the form again from
what was kept (once: the entry is removed when read).
"""

from __future__ import annotations

from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import redirect

SESSION_KEY = "refused_forms"
# Never carried back: the CSRF token is the page's own, and a file cannot be kept in a session.
DROPPED_FIELDS = {"csrfmiddlewaretoken"}


def refuse(request, form, *, key: str, to, errors: list[str] | None = None) -> HttpResponseRedirect:
    """Keep the refused form's data and errors for the page at `to`, and redirect there.

    `errors` are refusals that are not the form's own (a service's ValidationError); they are shown with the
    form's non-field errors.
    """
    stored = request.session.get(SESSION_KEY, {})
    form_errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    if errors:
        form_errors.setdefault("__all__", [])
        form_errors["__all__"] += [str(e) for e in errors if str(e) not in form_errors["__all__"]]
    stored[key] = {
        "data": {name: values for name, values in form.data.lists() if name not in DROPPED_FIELDS},
        "errors": form_errors,
    }
    request.session[SESSION_KEY] = stored
    return redirect(to)


def take_refused(request, key: str) -> dict | None:
    """Return (and forget) what a refusal kept under `key`: {"data": {...}, "errors": {...}}, or None."""
    stored = request.session.get(SESSION_KEY)
    if not stored or key not in stored:
        return None
    entry = stored.pop(key)
    request.session[SESSION_KEY] = stored
    return entry


def refused_form(request, key: str, form_class, **kwargs):
    """Build `form_class(data, **kwargs)` again from a refusal kept under `key`, with its errors; None if none."""
    entry = take_refused(request, key)
    if entry is None:
        return None
    data = QueryDict(mutable=True)
    for name, values in entry["data"].items():
        data.setlist(name, values)
    form = form_class(data, **kwargs)
    form.is_valid()
    for field, messages in entry["errors"].items():
        target = field if field in form.fields else None
        shown = form.errors.get(target or "__all__", [])
        for message in messages:
            if message not in shown:
                form.add_error(target, message)
    form.refused = True
    return form
