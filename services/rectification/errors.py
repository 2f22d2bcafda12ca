from services.kit.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, UnprocessableEntity


class ProblemNotFound(NotFound):
    slug = "problem-not-found"
    title = "Problem not found"


class ExtensionNotFound(NotFound):
    slug = "extension-not-found"
    title = "Extension request not found"


class CalendarFeedNotFound(NotFound):
    slug = "calendar-feed-not-found"
    title = "Calendar feed not found"


class TransitionNotAllowed(Conflict):
    slug = "transition-not-allowed"
    title = "Transition not allowed from the current state"


class ExtensionNotAllowed(Conflict):
    slug = "extension-not-allowed"
    title = "Extension not allowed"


class ProblemForbidden(Forbidden):
    slug = "problem-forbidden"
    title = "Not allowed on this problem"


class InvalidSchedule(UnprocessableEntity):
    slug = "invalid-schedule"
    title = "Invalid schedule"


class FindingRejected(UnprocessableEntity):
    slug = "finding-rejected"
    title = "Finding not accepted"


class InvalidReference(UnprocessableEntity):
    """A body names a person or site the directory does not know, or one outside the caller's scope."""

    slug = "invalid-reference"
    title = "Unknown or out-of-scope reference"


class InvalidMerge(UnprocessableEntity):
    """A merge names a problem it cannot go into: itself, one the caller cannot see, another site or round."""

    slug = "invalid-merge"
    title = "Problems cannot be merged"


class DirectoryUnavailable(ServiceUnavailable):
    slug = "directory-unavailable"
    title = "Directory unavailable"


class EvidenceUnavailable(ServiceUnavailable):
    slug = "evidence-unavailable"
    title = "Evidence service unavailable"


class InvalidEvidence(UnprocessableEntity):
    """A body names an evidence file that does not exist or lies outside the caller's scope (the same answer)."""

    slug = "invalid-evidence"
    title = "Unknown evidence file"


# Chinese for the words the details of these errors interpolate.
PROBLEM_STATUS_ZH = {
    "open": "待整改",
    "in_progress": "整改中",
    "submitted": "已提交待验收",
    "returned": "已退回",
    "closed": "已销号",
    "withdrawn": "已撤销",
    "merged": "已合并",
}
EXTENSION_STATUS_ZH = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}
ACTIONS_ZH = {
    "start": "开始整改",
    "report progress on": "报告进展",
    "submit": "提交验收",
    "close": "销号",
    "return": "退回",
    "assign": "指定责任人",
    "assign a responsible person to": "指定责任人",
    "withdraw": "撤销",
    "merge": "合并",
    "request an extension for": "申请延期",
    "decide extensions of": "审批延期申请",
}


def status_zh(status: str) -> str:
    """A problem's (or an extension request's) status in Chinese, in 「」."""
    text = str(status)
    return f"「{PROBLEM_STATUS_ZH.get(text) or EXTENSION_STATUS_ZH.get(text) or text}」"


def action_zh(action: str) -> str:
    return ACTIONS_ZH.get(action, action)
