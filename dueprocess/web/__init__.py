"""The web kit every page-serving capability shares (portal, inbox, programme,
implementation): page rendering in the request's language and Beijing time, form answers
and refusals, messages, rate limits and the request guards. It imports no capability:
capabilities register their template folders with `dueprocess.web.context`."""
