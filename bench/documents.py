"""Ordinary business documents for ``bench/summary_quality.py``: data, not test samples.

Four documents of the kinds a summarizer meets every day, written as realistic,
multi-section prose (one to three pages each): meeting minutes, a project status
report, a policy memo and a quarterly business summary. They are built here as
.docx files with python-docx (headings, paragraphs, lists, one table) so that the
benchmark reads them exactly as it would read a user's file. None of their text
appears in the test suite.

Run by hand to look at them: ``.venv/bin/python bench/documents.py OUT_DIR``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DOCUMENTS", "BenchDocument", "write_all"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A heading, its paragraphs, and optionally a list or a table."""

    heading: str
    paragraphs: Sequence[str] = ()
    bullets: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchDocument:
    """One benchmark document."""

    name: str
    title: str
    kind: str
    sections: Sequence[Section] = field(default_factory=tuple)

    def write(self, path: Path) -> Path:
        """Write the document as .docx to ``path``."""
        import docx

        doc = docx.Document()
        doc.core_properties.title = self.title
        doc.add_heading(self.title, 0)
        for section in self.sections:
            doc.add_heading(section.heading, 1)
            for text in section.paragraphs:
                doc.add_paragraph(text)
            for item in section.bullets:
                doc.add_paragraph(item, style="List Bullet")
            if section.table:
                header, *rows = section.table
                table = doc.add_table(rows=1, cols=len(header))
                table.style = "Table Grid"
                for cell, text in zip(table.rows[0].cells, header, strict=True):
                    cell.text = text
                for row in rows:
                    for cell, text in zip(table.add_row().cells, row, strict=True):
                        cell.text = text
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(path))
        return path

    @property
    def words(self) -> int:
        """Words of running text (paragraphs and bullets)."""
        return sum(len(t.split()) for s in self.sections for t in (*s.paragraphs, *s.bullets))


MINUTES = BenchDocument(
    name="minutes-facilities-committee",
    title="Facilities Committee: Minutes of the Meeting of 12 March",
    kind="meeting minutes",
    sections=(
        Section(
            heading="Attendance",
            paragraphs=(
                "Present: Helen Marsh (chair), David Okafor, Sunita Rao, Peter Lindqvist and Claire Dubois. "
                "Apologies were received from Mark Jensen, who is on leave until the end of the month. "
                "Anna Weber from the finance team attended for the budget item.",
            ),
        ),
        Section(
            heading="Office move to the Riverside building",
            paragraphs=(
                "David Okafor reported that the lease for the second and third floors of the Riverside "
                "building was signed on 28 February. The landlord will finish the fit-out of the open-plan "
                "areas by the end of May, and the meeting rooms on the third floor should be ready two weeks "
                "later. The committee discussed whether the move should happen in one weekend or in two "
                "stages. Moving in one weekend is cheaper, but it leaves no room to fix problems with the "
                "network before staff arrive on Monday morning.",
                "Sunita Rao pointed out that the customer service team cannot lose phone access for more "
                "than a few hours. The committee agreed that customer service and IT will move first, on the "
                "weekend of 14 June, and that every other team will follow on the weekend of 21 June. The "
                "removal company has confirmed that both dates are available.",
            ),
        ),
        Section(
            heading="Budget for furniture and equipment",
            paragraphs=(
                "Anna Weber presented the revised budget. The original estimate of 180,000 euros assumed that "
                "most desks would be reused. After a survey of the current furniture, about half of the desks "
                "are too worn to move, so the revised estimate is 215,000 euros. The difference would be "
                "covered by the contingency reserve, which currently stands at 60,000 euros.",
                "Peter Lindqvist asked whether leasing furniture would be cheaper over five years. Anna Weber "
                "said the finance team had compared both options and that buying remains cheaper after the "
                "third year. The committee approved the revised budget of 215,000 euros, with Claire Dubois "
                "abstaining because she had not seen the supplier quotes in advance.",
            ),
        ),
        Section(
            heading="Parking and cycle storage",
            paragraphs=(
                "The Riverside building has only forty parking spaces for a staff of about two hundred. "
                "Helen Marsh proposed that spaces be reserved for staff with accessibility needs and for "
                "shared cars, and that the remaining spaces be allocated by a monthly rota. The committee "
                "also asked for secure cycle storage for at least sixty bicycles and for showers on the "
                "ground floor. Several members noted that a local bus route stops directly outside the "
                "building, and that a season ticket scheme could reduce the demand for parking.",
            ),
        ),
        Section(
            heading="Actions",
            bullets=(
                "David Okafor will confirm the moving dates with the removal company by 20 March.",
                "Anna Weber will place the furniture orders once the supplier quotes are circulated.",
                "Sunita Rao will agree a telephone cut-over plan with the IT team before the end of April.",
                "Helen Marsh will draft the parking rota and present it at the next meeting.",
                "Claire Dubois will ask the transport authority about a season ticket scheme for staff.",
            ),
        ),
        Section(
            heading="Next meeting",
            paragraphs=(
                "The next meeting will be held on 9 April at 10:00 in the board room. The main items will be "
                "the parking rota, the telephone cut-over plan and an update on the fit-out schedule.",
            ),
        ),
    ),
)

STATUS = BenchDocument(
    name="status-billing-migration",
    title="Billing Platform Migration: Project Status Report, Week 23",
    kind="project status report",
    sections=(
        Section(
            heading="Summary",
            paragraphs=(
                "The migration of customer billing from the legacy system to the new platform is on track "
                "for the planned cut-over on 1 September, but the data reconciliation work is two weeks "
                "behind schedule. Overall status is amber. Spending to date is 1.42 million dollars against "
                "a budget of 2.1 million dollars, which is in line with the plan for this stage.",
            ),
        ),
        Section(
            heading="Progress this period",
            paragraphs=(
                "The team completed the second full trial migration over the weekend. All 84,000 active "
                "customer accounts were moved to the test environment in just under eleven hours, compared "
                "with nineteen hours in the first trial. The improvement came mainly from loading invoices "
                "in parallel batches and from dropping archived records that no longer need to be migrated.",
                "The integration with the payment gateway passed its acceptance tests on Thursday. Card "
                "payments, direct debits and refunds now flow end to end in the test environment. The "
                "customer portal team finished the new invoice view, and user testing with twelve customers "
                "gave mostly positive feedback, although several testers found the tax breakdown confusing.",
            ),
        ),
        Section(
            heading="Issues and risks",
            paragraphs=(
                "Reconciliation of account balances is the main concern. After the trial migration, 1,260 "
                "accounts showed a difference between the old and new balances, most of them smaller than "
                "one dollar. The differences are caused by the two systems rounding tax in different ways. "
                "The finance team must decide which rounding rule to keep before the next trial, otherwise "
                "the cut-over date is at risk.",
                "A second risk is staff availability in August. Three of the five billing specialists have "
                "booked leave during the month before cut-over. The project manager is discussing with "
                "their line managers whether some of that leave can be moved to September.",
            ),
            table=(
                ("Risk", "Likelihood", "Impact", "Owner"),
                ("Rounding differences in balances", "High", "High", "Finance lead"),
                ("Specialists on leave in August", "Medium", "High", "Project manager"),
                ("Payment gateway certificate renewal", "Low", "Medium", "Infrastructure"),
            ),
        ),
        Section(
            heading="Plan for the next two weeks",
            bullets=(
                "Agree the tax rounding rule with the finance team and update the migration scripts.",
                "Run the third trial migration on the weekend of 24 June.",
                "Simplify the tax breakdown in the invoice view based on the user testing feedback.",
                "Confirm staffing for August and arrange cover for the billing specialists.",
                "Prepare the communication plan that tells customers about the new invoices.",
            ),
        ),
        Section(
            heading="Decisions needed",
            paragraphs=(
                "The steering group is asked to approve a change request of 45,000 dollars for extra "
                "reconciliation testing, and to confirm that the legacy system will stay available in "
                "read-only mode for six months after cut-over, so that the support team can answer "
                "questions about old invoices.",
            ),
        ),
    ),
)

MEMO = BenchDocument(
    name="memo-remote-work-policy",
    title="Memo: Updated Remote Work Policy",
    kind="policy memo",
    sections=(
        Section(
            heading="Purpose",
            paragraphs=(
                "This memo explains the changes to our remote work policy that take effect on 1 July. The "
                "policy was reviewed after a staff survey in which 1,140 employees took part, and after "
                "consultation with managers and the works council. The aim is to keep the flexibility that "
                "most staff value while making sure that teams still meet in person often enough to work "
                "well together.",
            ),
        ),
        Section(
            heading="What changes",
            paragraphs=(
                "Employees in eligible roles may work remotely for up to three days a week, up from two. "
                "Each team will agree on one fixed office day when everyone is expected to be present, so "
                "that meetings, training and planning can happen face to face. Managers may approve fully "
                "remote arrangements for individual employees, but only for a period of up to six months, "
                "after which the arrangement must be reviewed.",
                "Working from another country is now allowed for up to twenty days a year, provided the "
                "employee tells the human resources team at least two weeks in advance. Longer stays abroad "
                "raise tax and social security questions and must be approved by the legal department.",
            ),
        ),
        Section(
            heading="Equipment and expenses",
            paragraphs=(
                "Every employee who works remotely at least one day a week will receive a one-off allowance "
                "of 500 euros for a desk, a chair or a monitor. The monthly internet allowance of 20 euros "
                "continues unchanged. Company laptops must be used for all work, and documents labelled "
                "confidential must not be printed at home. Lost or stolen equipment must be reported to the "
                "service desk within twenty-four hours.",
            ),
        ),
        Section(
            heading="Roles that are not eligible",
            paragraphs=(
                "Some roles cannot be done remotely, for example warehouse staff, reception and laboratory "
                "technicians. People in these roles will receive two additional days of annual leave from "
                "1 July, in recognition of the fact that they cannot benefit from the new arrangements. "
                "Managers who believe that a role has been classified wrongly should contact their human "
                "resources partner before the end of June.",
            ),
        ),
        Section(
            heading="Questions",
            paragraphs=(
                "The full policy is available on the intranet. Questions can be sent to the human resources "
                "team, and two information sessions will be held online on 18 and 25 June. Managers will "
                "receive a short guide on how to agree team office days and how to handle requests for "
                "fully remote work.",
            ),
        ),
    ),
)

QUARTERLY = BenchDocument(
    name="quarterly-summary-q2",
    title="Second Quarter Business Summary",
    kind="quarterly summary",
    sections=(
        Section(
            heading="Overview",
            paragraphs=(
                "Revenue for the second quarter was 38.6 million pounds, nine per cent higher than in the same "
                "quarter last year and slightly above our forecast. Growth came mainly from the subscription "
                "business, while one-off equipment sales were flat. Operating margin improved to 14.2 per cent "
                "from 12.5 per cent, helped by lower shipping costs and by the savings from last year's "
                "reorganisation of the service centres.",
            ),
        ),
        Section(
            heading="Sales and customers",
            paragraphs=(
                "The number of subscription customers rose to 41,300, an increase of 2,100 during the quarter. "
                "Customer churn fell to 1.9 per cent a month, the lowest level for two years, after the "
                "introduction of annual contracts with a discount. The enterprise segment signed four new "
                "contracts worth more than one million pounds each, including a five-year agreement with a "
                "regional hospital group.",
                "Sales in the Nordic countries were weaker than planned because a major distributor changed "
                "ownership and paused new orders for six weeks. Orders resumed in June, and the sales team "
                "expects to recover most of the shortfall in the third quarter.",
            ),
            table=(
                ("Segment", "Revenue (GBP m)", "Change vs last year"),
                ("Subscriptions", "24.1", "+15%"),
                ("Equipment", "9.8", "0%"),
                ("Services", "4.7", "+3%"),
            ),
        ),
        Section(
            heading="Operations",
            paragraphs=(
                "The new distribution centre in Northampton handled its first full quarter of orders. Delivery "
                "times improved from three days to two for most customers in England, and the share of "
                "orders shipped on the same day rose to 87 per cent. Staff turnover in the centre remained "
                "high at eleven per cent for the quarter, and a retention plan with a revised shift pattern "
                "was introduced in May.",
            ),
        ),
        Section(
            heading="Outlook",
            paragraphs=(
                "We keep our full-year revenue forecast of 155 million pounds. The main risks are higher "
                "component prices from the autumn, which could reduce margins by up to one percentage point, "
                "and the timing of the large enterprise contracts, some of which may slip into next year. "
                "The board has approved an investment of 3 million pounds in the customer self-service "
                "portal, to be delivered by the end of the year.",
            ),
            bullets=(
                "Launch the annual contract offer in the Nordic countries in August.",
                "Complete the retention plan review for the Northampton centre by September.",
                "Negotiate fixed component prices for the first half of next year.",
            ),
        ),
    ),
)

DOCUMENTS: tuple[BenchDocument, ...] = (MINUTES, STATUS, MEMO, QUARTERLY)


def write_all(folder: Path) -> list[Path]:
    """Write every benchmark document into ``folder``; returns their paths."""
    return [d.write(folder / f"{d.name}.docx") for d in DOCUMENTS]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-documents")
    for doc, path in zip(DOCUMENTS, write_all(out), strict=True):
        print(f"{path}  ({doc.kind}, {doc.words} words)")
