"""Test runner summaries -> counts, and a bug counted fixed when a failing command later passes."""

from __future__ import annotations

import pytest

from token_roi.guard import outcomes, state

PYTEST_VERBOSE = """\
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-8.3.4, pluggy-1.5.0
rootdir: /home/dev/src/acme-api
collected 17 items

tests/test_api.py ......F.....s.E..                                      [100%]

==================================== ERRORS ====================================
_______________________ ERROR at setup of test_db_conn _________________________
E   ConnectionRefusedError: [Errno 111] Connection refused
=========================== short test summary info ============================
FAILED tests/test_api.py::test_create - assert 500 == 201
ERROR tests/test_api.py::test_db_conn - ConnectionRefusedError: [Errno 111]
============== 1 failed, 14 passed, 1 skipped, 1 error in 2.04s ===============
"""
PYTEST_QUIET = ("..........                                                               [100%]\n"
                "10 passed, 1 warning in 0.12s\n")
UNITTEST = """\
..F.s
======================================================================
FAIL: test_total (test_cart.CartTest.test_total)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/home/dev/src/shop/test_cart.py", line 12, in test_total
    self.assertEqual(cart.total(), 30)
AssertionError: 29 != 30

----------------------------------------------------------------------
Ran 5 tests in 0.002s

FAILED (failures=1, skipped=1)
"""
UNITTEST_OK = ("......\n----------------------------------------------------------------------\n"
               "Ran 6 tests in 0.010s\n\nOK\n")
JEST = """\
 FAIL  src/cart.test.ts
  ● cart › totals include tax

    expect(received).toBe(expected) // Object.is equality

Test Suites: 1 failed, 2 passed, 3 total
Tests:       1 failed, 1 skipped, 14 passed, 16 total
Snapshots:   0 total
Time:        2.345 s
Ran all test suites.
"""
VITEST = """\
 ✓ src/utils.test.ts (12 tests) 8ms
 ❯ src/cart.test.ts (31 tests | 2 failed) 25ms

 Test Files  1 failed | 3 passed (4)
      Tests  2 failed | 40 passed | 1 skipped (43)
   Start at  10:21:08
   Duration  1.52s (transform 80ms, setup 0ms, collect 120ms, tests 33ms)
"""
GO_VERBOSE = """\
=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestSub
    math_test.go:14: got 1, want 2
--- FAIL: TestSub (0.00s)
=== RUN   TestMul
--- PASS: TestMul (0.00s)
FAIL
FAIL\texample.com/math\t0.002s
FAIL
"""
GO_PACKAGES = "ok  \texample.com/math\t0.002s\nok  \texample.com/strings\t(cached)\n"
CARGO = """\
   Compiling shop v0.1.0 (/home/dev/src/shop)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.61s
     Running unittests src/lib.rs (target/debug/deps/shop-1c2d)

running 4 tests
test tests::adds ... ok
test tests::taxes ... FAILED
test tests::ignored_one ... ignored
test tests::rounds ... ok

failures:

test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/integration.rs (target/debug/deps/integration-9f8e)

running 3 tests
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
"""


@pytest.mark.parametrize("text, want", [
    (PYTEST_VERBOSE, ("pytest", 14, 2, 1)),
    (PYTEST_QUIET, ("pytest", 10, 0, 0)),
    ("\x1b[32m===== \x1b[1m3 passed\x1b[0m\x1b[32m in 0.05s =====\x1b[0m\n", ("pytest", 3, 0, 0)),
    (UNITTEST, ("unittest", 3, 1, 1)),
    (UNITTEST_OK, ("unittest", 6, 0, 0)),
    (JEST, ("jest", 14, 1, 1)),
    (VITEST, ("vitest", 40, 2, 1)),
    (GO_VERBOSE, ("go", 2, 1, 0)),
    (GO_PACKAGES, ("go", 2, 0, 0)),
    (CARGO, ("cargo", 5, 1, 1)),
])
def test_runner_summaries(text, want):
    got = outcomes.parse_summary(text)
    assert (got["runner"], got["passed"], got["failed"], got["skipped"]) == want


@pytest.mark.parametrize("text", ["", "total 48\ndrwxr-xr-x 2 dev dev 4096 .\n", "I passed 3 tests yesterday\n",
                                  "Compiling...\nerror[E0308]: mismatched types\n"])
def test_other_output_is_not_a_test_run(text):
    assert outcomes.parse_summary(text) is None


def test_bash_output_reads_stdout_stderr_and_failure_text():
    assert outcomes.bash_output({"stdout": "a", "stderr": "b", "interrupted": False}) == "a\nb"
    assert outcomes.bash_output(None, "Exit code 1\nboom") == "Exit code 1\nboom"
    assert outcomes.bash_output(["weird"]) == ""


def test_a_bug_is_fixed_when_the_same_command_goes_from_failing_to_passing():
    s = state.new_state("s")
    fail = outcomes.parse_summary(PYTEST_VERBOSE)
    ok = {"runner": "pytest", "passed": 17, "failed": 0, "skipped": 0}
    assert outcomes.record_run(s, "pytest tests/test_api.py", fail) == {"fixed": False}
    assert outcomes.record_run(s, "pytest tests/test_api.py", fail) == {"fixed": False}
    # Another command passing fixes nothing.
    assert outcomes.record_run(s, "pytest tests/test_other.py", ok) == {"fixed": False}
    assert outcomes.record_run(s, "pytest   tests/test_api.py", ok) == {"fixed": True}   # same, normalised
    assert outcomes.record_run(s, "pytest tests/test_api.py", ok) == {"fixed": False}    # already passing
    o = s["outcomes"]
    assert o["bugs_fixed"] == 1
    assert o["tests_passed"] == 17 + 17        # the most each command has seen pass
    assert o["test_runs"] == 5
    outcomes.record_manual(s, bugs_fixed=2, tests_passed=5)
    assert o["bugs_fixed"] == 3 and o["tests_passed"] == 39
