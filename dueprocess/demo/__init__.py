"""The scripted demo case: a case file and what each reviewer records."""
