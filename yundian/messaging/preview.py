"""The template editor's live preview: each body rendered as a member would read it, for a sample member (or a
member the editor may see), with the unsubscribe line a marketing message gets."""
from django.utils.translation import gettext as _

from yundian.members.selectors import member_get
from yundian.org.models import Staff

from . import rendering
from .models import Purpose, TemplateBody
from .services import _clean_bodies, render_message, standard_values


class _SampleMember:
    pk = 0
    name = ""


def template_preview(*, actor: Staff, bodies: list[dict], variables: list[str], purpose: str,
                     member_id: int | None = None) -> list[dict]:
    """[{channel, language, subject, body, member_name, characters}] per body; 422 on a body that would not save."""
    extra = rendering.variables_check(variables or [])
    clean = _clean_bodies(bodies, extra)
    purpose = purpose if purpose in Purpose.values else Purpose.MARKETING
    values = dict(rendering.SAMPLE)
    values.update({name: f"‹{name}›" for name in extra})
    member_name = values["member_name"]
    member = None
    if member_id:
        member = member_get(actor=actor, member_id=member_id)
        values.update(standard_values(member, None))
        member_name = values["member_name"]
    rows = []
    for item in clean:
        body = TemplateBody(channel=item["channel"], language=item["language"], subject=item["subject"],
                            body=item["body"])
        subject, text, _link = render_message(body=body, values=values, purpose=purpose, language=body.language,
                                              member_id=member.pk if member else 0, channel=body.channel)
        rows.append({"channel": body.channel, "language": body.language, "subject": subject, "body": text,
                     "member_name": member_name or _("member"), "characters": len(text)})
    return rows
