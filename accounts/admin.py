from allauth.account.decorators import secure_admin_login
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken, User
from .services import api_token_revoke, second_factor_reset

# The admin has no log-in form of its own: it sends to the site's log-in (allauth's), so an
# admin passes the same second factor (and lockout) as everyone else.
admin.site.login = secure_admin_login(admin.site.login)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Preferences"), {"fields": ("language",)}))
    list_display = ("username", "email", "language", "is_active", "is_superuser")
    list_filter = ("groups", "language", "is_active", "is_superuser")
    actions = ["reset_second_factor"]

    @admin.action(
        description=_("Reset the second factor (lost phone or key)"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            second_factor_reset(user=user, by=request.user)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "The second factor of %(count)d user was removed; they set up a new one at "
                "their next log-in.",
                "The second factors of %(count)d users were removed; they set up new ones at "
                "their next log-in.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_reset_second_factor_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be looked at and revoked here; their secrets exist nowhere to show."""

    list_display = ("prefix", "user", "created", "expires", "last_used", "revoked")
    list_filter = ("revoked",)
    search_fields = ("prefix", "user__username")
    readonly_fields = ("user", "prefix", "created", "expires", "last_used", "revoked")
    fields = readonly_fields
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, _("The tokens are revoked."), messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
