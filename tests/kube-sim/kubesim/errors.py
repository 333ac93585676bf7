# SPDX-License-Identifier: Apache-2.0
"""API errors: ApiError (a Status on the wire) and the helpers that
make the common ones (404, 409, 422, 400).
"""


class ApiError(Exception):
    def __init__(self, code, reason, message, name=None, kind=None, group=None,
                 headers=None, causes=None, body=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.name, self.kind, self.group = name, kind, group
        self.headers = headers or {}
        self.causes = causes
        self.body = body          # a complete Status, passed through as is

    def status(self):
        if self.body is not None:
            return self.body
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
              "status": "Failure", "message": self.message,
              "reason": self.reason, "code": self.code}
        details = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        if details:
            st["details"] = details
        return st


def not_found(rt, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (rt.gr(), name),
                    name=name, kind=rt.plural, group=rt.group)


def conflict(rt, name, why="the object has been modified; please apply your "
             "changes to the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (rt.gr(), name, why), name=name, kind=rt.plural, group=rt.group)


def invalid(rt, name, field, msg):
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: %s' % (rt.kind, name, field, msg),
                    name=name, kind=rt.kind, group=rt.group,
                    causes=[{"reason": "FieldValueInvalid", "message": msg, "field": field}])


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)
