"""The IAM lint passes the real program and fails on each kind of problem it exists to catch."""
import sys
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import iam_lint  # noqa: E402

PROGRAM = Path(__file__).resolve().parents[2] / "Pulumi.yaml"


def program_with(original, replacement):
    text = PROGRAM.read_text()
    assert original in text, original
    return yaml.safe_load(text.replace(original, replacement, 1))


class IamLintTest(unittest.TestCase):
    def test_real_program_is_clean(self):
        self.assertEqual(iam_lint.lint(yaml.safe_load(PROGRAM.read_text())), [])

    def test_wildcard_action_is_rejected(self):
        problems = iam_lint.lint(program_with("              Action: sns:Publish", "              Action: sns:*"))
        self.assertTrue(any("wildcard action sns:*" in p for p in problems), problems)

    def test_unknown_action_is_rejected(self):
        problems = iam_lint.lint(program_with("              Action: sns:Publish", "              Action: sns:Publishh"))
        self.assertTrue(any("UNKNOWN_ACTION" in p for p in problems), problems)

    def test_new_resource_star_is_not_hidden_by_the_justifications(self):
        problems = iam_lint.lint(program_with("              Action: sns:Publish\n              Resource: ${alertTopic.arn}",
                                              "              Action: sns:Publish\n              Resource: \"*\""))
        self.assertTrue(any("RESOURCE_STAR" in p and "sns:Publish" in p for p in problems), problems)

    def test_only_the_justified_condition_key_is_accepted(self):
        problems = iam_lint.lint(program_with("                  aws:SourceOrgID: ${organizationId}\n            - Sid: MemberAccountsConfigDelivers",
                                              "                  aws:SourceOrgId2: ${organizationId}\n            - Sid: MemberAccountsConfigDelivers"))
        self.assertTrue(any("UNKNOWN_CONDITION_FOR_ACTION" in p and "aws:SourceOrgId2" in p for p in problems), problems)

    def test_allow_with_not_action_is_rejected(self):
        problems = iam_lint.lint(program_with("              Action: sns:Publish", "              NotAction: iam:CreateUser"))
        self.assertTrue(any("NotAction" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
