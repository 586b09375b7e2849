"""What other features may use of accounts (its public surface; import-only): who is asking
(the user the guard authenticated, never a header the client writes), the roles, what a user
may see, the audit log's writer (`Audit`), and the roles each route of the OpenAPI document admits."""

from callcenter.accounts.identity import AUDIT_TARGET, USER, actor_of, current_user
from callcenter.accounts.model import Role, User, off_shift_approver, sees_full_number
from callcenter.accounts.openapi import with_roles
from callcenter.accounts.repository import Audit

__all__ = ["AUDIT_TARGET", "USER", "Audit", "Role", "User", "actor_of", "current_user", "off_shift_approver", "sees_full_number",
           "with_roles"]
