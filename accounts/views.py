"""Account pages that django-allauth does not provide: the profile and the language switch."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .forms import LanguageForm
from .services import user_update_profile


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The user's account: e-mail, password and the language of pages and e-mails."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        user_update_profile(user=request.user, language=form.cleaned_data["language"])
        translation.activate(request.user.language)
        messages.success(request, _("Your language is saved."))
        response = redirect("account_profile")
        # The visitor's cookie follows too, so the pages after log-out stay in that language.
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            request.user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
        return response
    return render(request, "account/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also saves the choice of a signed-in user."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(request.user.Language.choices):
        user_update_profile(user=request.user, language=language)
    return django_set_language(request)
