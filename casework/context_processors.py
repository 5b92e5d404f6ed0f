"""Template context shared by every page."""

from casework.viewers import viewer_for


def navigation(request) -> dict:
    """Give templates the viewer, so the navigation shows each role what it may use."""
    if not hasattr(request, "user"):
        return {}
    from casework.notifications.selectors import unread_count

    return {"viewer": viewer_for(request), "unread_notifications": unread_count(request.user)}
