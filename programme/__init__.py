"""The practical-matters programme (为民办实事): residents propose matters, residents and
experts vote on a shortlist, and anyone can recount the published tally from the signed
log (docs/programme.md).

One feature per module: `proposals` (submission, moderation), `ballots` (opening, the
rolls, one vote per person, closing with the tally), `recount` (the offline recount from
an exported ballot dossier) and `cli` (`dueprocess programme …`). Tables are in
`models.programme`; every proposal, mark, ballot and vote is a transparency-log record.
"""
