"""Keep each user's organization groups and staff flag in step with their memberships."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from casework.models import Membership
from casework.services.memberships import user_sync_groups


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender, instance: Membership, **kwargs) -> None:
    """Recompute the user's groups whenever one of their memberships changes (admin included)."""
    user_sync_groups(user=instance.user)
