"""What ``share``/``unshare`` print: the JSON document and the text lines (with styles).

Text is a list of ``(line, style)`` pairs: the CLI prints them plain when the output is
not a terminal and coloured (rich styles) when it is, so the docs show exactly what a
terminal shows, without colour.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crossdock.service.share import IdentityMode, PolicyChange, SharePlan, ShareResult
from crossdock.service.share_simulate import Proof
from crossdock.service.share_verify import PullCheck

Line = tuple[str, str]


def _pretty(document: Mapping[str, Any] | None) -> list[str]:
    if document is None:
        return []
    return json.dumps(document, indent=2, ensure_ascii=False).splitlines()


def policy_diff(change: PolicyChange) -> list[Line]:
    """The unified diff of one policy (before → after), each line with its style."""
    lines: list[Line] = []
    diff = difflib.unified_diff(
        _pretty(change.before), _pretty(change.after), "before", "after", lineterm="", n=3
    )
    for line in diff:
        if line.startswith(("---", "+++")):
            lines.append((line, "bold"))
        elif line.startswith("@@"):
            lines.append((line, "cyan"))
        elif line.startswith("+"):
            lines.append((line, "green"))
        elif line.startswith("-"):
            lines.append((line, "red"))
        else:
            lines.append((line, ""))
    return lines


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


@dataclass
class ShareReport:
    """Everything one run did and found."""

    command: str
    plan: SharePlan
    dry_run: bool
    result: ShareResult | None = None
    proofs: list[Proof] = field(default_factory=list)
    proof_notes: list[str] = field(default_factory=list)
    check: PullCheck | None = None
    check_note: str | None = None

    @property
    def failed(self) -> bool:
        """True when applying failed (and was rolled back)."""
        return self.result is not None and not self.result.ok

    def headline(self) -> str:
        """``share example: 111111111111 -> 222222222222 (pull)``."""
        request = self.plan.request
        who = request.lambda_arn or (request.target.value if request.target else "")
        arrow = "->" if self.command == "share" else "-x"
        return (
            f"{self.command} {request.repository.name}: {request.repository.account}"
            f" {arrow} {who} ({request.mode})"
        )

    def outcome_line(self) -> Line:
        """What was written, in one line."""
        result = self.result
        if not self.plan.changed:
            return (
                f"no change: the {self.command} is in place already"
                if self.command == "share"
                else "no change: nothing of this share is in place",
                "bold",
            )
        if self.dry_run:
            return ("dry run: nothing was written", "bold yellow")
        if result is None:  # pragma: no cover - a changed plan is always applied
            return ("", "")
        if result.ok:
            return ("\n".join(f"done: {step}" for step in result.applied), "bold green")
        if result.rolled_back:
            line = f"error: {result.failure}; rolled back: {'; '.join(result.rolled_back)}"
        else:
            line = f"error: {result.failure}; nothing was written"
        if result.rollback_failures:
            line += "; " + "; ".join(result.rollback_failures)
        return (line, "bold red")

    def lines(self) -> list[Line]:
        """The text form."""
        plan = self.plan
        out: list[Line] = [(self.headline(), "bold"), ("", "")]
        for change in (plan.repository, plan.identity):
            if change is None:
                continue
            if not change.changed:
                out += [(f"{change.title}: no change", ""), ("", "")]
                continue
            out.append((change.title + self._suffix(change), "bold"))
            out += policy_diff(change)
            out.append(("", ""))
        attachment = plan.attachment
        if attachment is not None and attachment.needed:
            out += [(attachment.description, "bold"), ("", "")]
        out += [(f"note: {note}", "yellow") for note in plan.notes]
        if plan.notes:
            out.append(("", ""))
        out += [self.outcome_line(), ("", "")]
        out += self._proof_lines()
        out += self._check_lines()
        while out and out[-1] == ("", ""):
            out.pop()
        return out

    def _suffix(self, change: PolicyChange) -> str:
        if change is self.plan.identity and self.plan.identity_mode is IdentityMode.PRINT:
            return " (to attach by the consumer's administrator)"
        return ""

    def _proof_lines(self) -> list[Line]:
        if not self.proofs and not self.proof_notes:
            return []
        repository = self.plan.request.repository.arn
        title = f"simulated decisions on {repository} (GetAuthorizationToken: on *):"
        out: list[Line] = [(title, "bold")]
        out += [(f"  note: {note}", "yellow") for note in self.proof_notes]
        if self.proofs:
            rows = [(p.principal, p.action, p.decision) for p in self.proofs]
            for proof, text in zip(self.proofs, _table(rows), strict=True):
                out.append((text, "green" if proof.allowed else "red"))
            messages = dict.fromkeys(p.message for p in self.proofs if p.message)
            out += [(f"  {m}", "red") for m in messages if m]
        out.append(("", ""))
        return out

    def _check_lines(self) -> list[Line]:
        if self.check is None:
            return [] if self.check_note is None else [(f"verify: {self.check_note}", "yellow")]
        check = self.check
        status = "" if check.status is None else f" {check.status}"
        if check.ok:
            return [(f"verify: pulled {check.url}:{status} {check.detail}", "green")]
        where = f"GET {check.url}:{status} " if check.url else ""
        return [(f"verify: {where}{check.detail}", "red")]

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        plan, request = self.plan, self.plan.request
        grant = plan.identity_grant
        identity: dict[str, Any] | None = None
        if grant is not None:
            change = plan.identity
            attachment = plan.attachment
            identity = {
                "mode": plan.identity_mode.value,
                "account": grant.account,
                "name": grant.name,
                "arn": grant.arn,
                "before": None if change is None else change.before,
                "after": None if change is None else change.after,
                "changed": change is not None and change.changed,
                "attachment": None
                if attachment is None
                else {
                    "type": attachment.kind.value,
                    "name": attachment.name,
                    "attach": attachment.attach,
                    "needed": attachment.needed,
                },
            }
        result = self.result
        target = request.target
        return {
            "command": self.command,
            "repository": request.repository.arn,
            "from": request.repository.account,
            "to": None if target is None else target.value,
            "toType": None if target is None else target.kind.value,
            "lambda": request.lambda_arn,
            "mode": request.mode,
            "dryRun": self.dry_run,
            "changed": plan.changed,
            "repositoryPolicy": {
                "before": plan.repository.before,
                "after": plan.repository.after,
                "changed": plan.repository.changed,
            },
            "identityPolicy": identity,
            "notes": list(plan.notes),
            "applied": [] if result is None else result.applied,
            "error": None if result is None else result.failure,
            "rolledBack": [] if result is None else result.rolled_back,
            "rollbackErrors": [] if result is None else result.rollback_failures,
            "simulation": [
                {
                    "principal": p.principal,
                    "action": p.action,
                    "resource": p.resource,
                    "decision": p.decision,
                    "message": p.message,
                    "statements": list(p.statements),
                }
                for p in self.proofs
            ],
            "simulationNotes": self.proof_notes,
            "verify": None
            if self.check is None
            else {
                "ok": self.check.ok,
                "url": self.check.url,
                "status": self.check.status,
                "detail": self.check.detail,
            },
            "verifyNote": self.check_note,
        }
