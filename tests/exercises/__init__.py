"""Tests of every lesson's exercises: the mistakes learners make, each with its own hint.

A package, so that its conftest.py (shorter waits for these tests) is imported as
``exercises.conftest`` and leaves ``conftest``, the tests' shared one, in place: the test
modules here import ``not_yet`` from it.
"""
