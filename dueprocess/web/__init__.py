"""The web kit every page-serving capability shares (portal, inbox, programme,
implementation): page rendering in the request's language and Beijing time (`rendering`,
`localize`), the words of a page from the gettext catalogues (`i18n.words`, catalogues in
`dueprocess.i18n`), public forms, their answers and refusals (`forms`), rate limits and the
request guards. It imports no capability: capabilities register their template folders
with `context.register_templates`, and each error names its own HTTP status
(`DueProcessError.http_status`)."""
