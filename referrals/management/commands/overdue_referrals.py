"""List referrals waiting for an answer past their due date, per receiving organization."""

from django.core.management.base import BaseCommand

from referrals.selectors import overdue_by_organization


class Command(BaseCommand):
    help = "回答期限を過ぎた紹介（依頼中）を紹介先の機関ごとに一覧にします。"

    def handle(self, *args, **options):
        grouped = overdue_by_organization()
        if not grouped:
            self.stdout.write("回答期限を過ぎた紹介はありません。")
            return
        for organization, referrals in grouped.items():
            self.stdout.write(f"{organization.name}（{len(referrals)}件）")
            for r in referrals:
                # Numbers, kinds and dates only: this output may land in mail or logs.
                self.stdout.write(
                    f"  #{r.pk} {r.get_kind_display()} 紹介元: {r.sender_organization.name} 回答期限: {r.due_on.isoformat()}"
                )
