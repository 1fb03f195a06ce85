"""Story 5: a leak in the stairwell (楼道漏水), walked as an order.

居民点单 → 派单 → 接单 → 办理 → 反馈 → 评价: the grid leader hears of the leak
in the building's WeChat group and logs it for the resident on his phone,
with her photo; the secretary dispatches it to the property company; its
staff member takes it on, handles it and replies, on his phone; the
resident is not satisfied (2 stars), which reopens it to the secretary.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from . import cast, steps
from .steps import SHANGHAI, ConcernText

pytestmark = pytest.mark.e2e

LEAK = ConcernText(
    title="3栋2单元楼道顶部漏水",
    category="Property services",
    description="顾阿姨在楼栋微信群里说：这几天下雨，3栋2单元五楼楼道顶上一直滴水，"
    "墙皮起泡脱落，地上湿滑，老人上下楼怕摔跤。她拍了照片发在群里。",
    location="桂园小区3栋2单元五楼楼道",
    channel="WeChat group",
)
DISPATCH_NOTE = "请物业尽快查看楼顶防水层，先做好防滑提示。"
STEP_NOTE = "已上楼顶查看，清理了堵塞的排水口，楼道放置“小心地滑”提示牌。"
REPLY = "排水口已疏通，楼道已清理干净。楼顶防水层等天晴后再修补。"
COMMENT = "还在滴水，防水层没修，墙皮也没处理。"


def leak_photo(folder: Path) -> Path:
    """The resident's photo from the WeChat group: a small JPEG."""
    path = folder / "leak.jpg"
    image = Image.new("RGB", (320, 240), (214, 208, 196))
    draw = ImageDraw.Draw(image)
    draw.ellipse((110, 20, 230, 90), fill=(120, 110, 95))  # the stain on the ceiling
    for x in (150, 170, 190):
        draw.line((x, 90, x, 200), fill=(90, 120, 170), width=3)  # the drips
    image.save(path, "JPEG", quality=85)
    return path


def test_leak_order_reopened_by_a_low_rating(story, tmp_path):
    community = cast.ORDERS
    people = community.members
    company = cast.PROPERTY_COMPANY
    staff = company.staff["property"]
    t = story.t
    concern = replace(LEAK, photo=leak_photo(tmp_path))

    # The grid leader logs the concern for the resident on his phone, with her photo.
    shi = story.phone("grid-leader")
    shi.log_in(people["grid"])
    steps.log_concern(shi, people["resident"], concern)

    # The secretary finds it among the community's requests and dispatches it
    # to the property company (派单) with a due date.
    secretary = story.desktop("secretary")
    secretary.log_in(community.secretary)
    page = secretary.page
    secretary.menu(t("Requests of %(community)s", community=community.name))
    card = page.locator(".request-card", has_text=LEAK.title)
    expect(card.locator(".status")).to_have_text(t("Waiting for a reply"))
    expect(card).to_contain_text(t(LEAK.channel))
    secretary.shot("requests")
    card.get_by_role("link", name=LEAK.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LEAK.title)
    expect(page.locator(".request-photos img")).to_have_count(1)
    due = datetime.now(SHANGHAI).date() + timedelta(days=3)
    steps.dispatch_to_unit(secretary, company.name, due, DISPATCH_NOTE)
    secretary.menu(t("Orders of %(community)s", community=community.name))
    order = page.locator(".request-card", has_text=LEAK.title)
    expect(order.locator(".status")).to_have_text(t("Dispatched"))
    expect(order).to_contain_text(t("To %(assignee)s", assignee=company.name))
    secretary.shot("orders")

    # The property company's staff member takes it on and handles it on his phone.
    qian = story.phone("property-staff")
    qian.log_in(staff)
    steps.open_my_order(qian, LEAK.title, "Dispatched")
    expect(qian.page.locator(".request-photos img")).to_have_count(1)
    qian.shot("order")
    steps.claim_order(qian, staff.name)
    steps.record_step(qian, STEP_NOTE)
    steps.mark_handled(qian, REPLY)

    # The resident reads the reply and is not satisfied: 2 stars reopen it.
    gu = story.phone("resident")
    gu.log_in(people["resident"])
    gu.menu(t("My requests"))
    mine = gu.page.locator(".request-card", has_text=LEAK.title)
    expect(mine.locator(".status")).to_have_text(t("Handled, waiting for the resident's rating"))
    gu.shot("my-requests")
    mine.get_by_role("link", name=LEAK.title).click()
    expect(gu.page.locator(".request-answer")).to_contain_text(REPLY)
    expect(steps.order_panel(gu).locator(".order-steps")).to_contain_text(STEP_NOTE)
    gu.shot("handled-request")
    steps.rate_order(gu, "2 – Not satisfied", COMMENT)
    gu.flash(t("Thank you. The secretary takes the request up again."))
    expect(gu.page.locator(".request-meta .status")).to_have_text(t("Reopened"))
    expect(steps.order_panel(gu).locator(".rating-comments")).to_contain_text(COMMENT)
    gu.shot("reopened")

    # The secretary is told, and finds the request reopened, to dispatch again.
    secretary.menu(t("Notifications"))
    newest = page.locator(".notification").first
    expect(newest).to_contain_text(
        t("“%(title)s” rated %(score)d stars: reopened", title=LEAK.title, score=2)
    )
    expect(newest).to_contain_text(COMMENT)
    secretary.shot("notifications")
    newest.get_by_role("button", name=t("Open")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LEAK.title)
    expect(page.locator(".request-meta .status")).to_have_text(t("Reopened"))
    ratings = steps.order_panel(secretary).locator(".rating-comments")
    expect(ratings).to_contain_text(t("%(score)d of 5", score=2))
    expect(ratings).to_contain_text(COMMENT)
    expect(page.get_by_role("button", name=t("Dispatch"), exact=True)).to_be_visible()
    secretary.shot("reopened")
    secretary.menu(t("Requests of %(community)s", community=community.name))
    card = page.locator(".request-card", has_text=LEAK.title)
    expect(card.locator(".status")).to_have_text(t("Reopened"))
    secretary.shot("requests-reopened")
