"""The UserPromptSubmit trigger: questions people ask about the session's cost or waste get the
measured figures; prompts that merely mention cost, tokens, budgets, loops or ROI as parts of the
code do not. Plus one run of the real hook for each side."""

from __future__ import annotations

import json

import pytest
from hook_support import Transcript, prompt, run_hook

from token_roi.guard.questions import asks_about_cost

ASKS = [
    "am I wasting tokens?",
    "Am I wasting tokens here or is this going somewhere?",
    "are we wasting money on this?",
    "are we in a loop?",
    "are we stuck in a loop here",
    "Are you going in circles?",
    "you seem to be going round in circles",
    "you're looping, what's going on?",
    "why do you keep retrying the same thing?",
    "how much has this cost?",
    "how much did that cost so far",
    "how much has this session cost me",
    "how much money have I spent today on claude",
    "how much are we spending on this bug?",
    "how much have you burned through?",
    "how much is this costing me",
    "how many tokens have we used?",
    "how many tokens did that take",
    "how many tokens so far?",
    "how fast are we burning through tokens",
    "what did that cost?",
    "what's this session costing me?",
    "what have we spent so far",
    "what has it cost so far?",
    "what's the cost so far",
    "what's my spend today?",
    "what's today's AI spend?",
    "token usage?",
    "show me the token usage",
    "whats the token count",
    "are we over budget?",
    "did we blow the budget on that refactor?",
    "how close am I to my budget",
    "is this session over budget",
    "is this getting expensive?",
    "how expensive was that",
    "give me a cost breakdown",
    "cost report please",
    "/cost-report",
    "show the cost report",
    "what's the ROI of this session?",
    "was this worth the tokens?",
    "what's the cost per fix so far?",
    "quick check: how much have we spent, and are we in a loop?",
    "before we continue, how many tokens has this used? I want to stay under $5",
]

NOT_ASKS = [
    "add an ROI column to the report table",
    "compute the ROI in the dashboard's weekly view",
    "rename cost_usd to total_cost everywhere",
    "the cost calculation in pricing.py is off by one cent, fix it",
    "write a test for the token counter",
    "refactor the TokenBudget class into its own module",
    "add a loop that retries the request three times",
    "fix the infinite loop in the parser",
    "implement a cost function for the optimizer",
    "update the README's cost section",
    "the for loop in utils.py is slow, can you speed it up?",
    "add a tokens field to the API response",
    "how much memory does the indexer use?",
    "how much time does the build take on CI?",
    "tokenize the input string before parsing",
    "the JWT token expires too early",
    "refresh the auth token before each request",
    "add a budget field to the Project model",
    "spend less time on the docs, focus on the API",
    "make the daily budget configurable in config.yaml",
    "the session cost widget shows NaN when there are no calls",
    "document the cost-report command in the README",
    "explain the event loop in asyncio",
    "are we using a loop or recursion here?",
    "stop allocating inside the hot loop",
    "what does this function cost in big-O terms?",
    "render the monthly spend chart with a log scale",
    "add a `--max-cost` flag to the CLI",
    "the shipping cost is wrong for EU orders",
    "calculate the total cost of the cart including tax",
    "store the token in the keychain instead of a file",
    "parse the cost field as a Decimal",
    "migrate the costs table to the new schema",
    "why does the while loop never exit?",
    "the loop variable shadows the outer one",
    "use a cheaper model for the summariser in prod",
    "cache the tokenizer so we don't rebuild it",
    "sort the invoices by cost descending",
    "handle the case where the API returns a negative cost",
    "optimize the query, it is expensive on large tables",
    "write a blog post about measuring ROI of developer tools",
    "generate fixtures with token counts for the pricing tests",
    "log the budget id on every request",
]


def test_enough_examples_each_way():
    assert len(ASKS) >= 40 and len(NOT_ASKS) >= 40


@pytest.mark.parametrize("text", ASKS)
def test_questions_about_the_session_match(text):
    assert asks_about_cost(text), text


@pytest.mark.parametrize("text", NOT_ASKS)
def test_prompts_about_code_do_not(text):
    assert not asks_about_cost(text), text


def test_the_real_hook_answers_a_question_and_ignores_a_task(tmp_path):
    sid = "e0a9d3c4-7b21-4f5e-8c6d-1a2b3c4d5e6f"
    t = Transcript(tmp_path / f"{sid}.jsonl", sid)
    t.user()
    t.assistant("msg_01", input=5, output=200, cache_read=30_000, cache_5m=800)
    asked = run_hook(prompt(sid, t.path, "are we in a loop? how much has this cost?"))
    ctx = json.loads(asked.stdout)["hookSpecificOutput"]["additionalContext"]
    assert ctx.startswith("token-roi (measured from this session's transcript): 31,005 tokens, $")
    assert run_hook(prompt(sid, t.path, "add an ROI column to the weekly report")).stdout == ""
