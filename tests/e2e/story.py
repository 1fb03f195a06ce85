"""The people of a story in the browser, and their screenshots.

Each person has a browser context of their own (their own cookies, so their
own session): residents and attendees on a 360 px phone, the secretary on a
1280 px desktop, the meeting room's big screen at 1920×1080. ``Actor.shot``
saves a full-page screenshot of each step and checks what every page must
be: in the story's language, and no wider than the screen. Server errors,
script errors and refused scripts or styles (the site's CSP) are collected
and fail the story at its end.

Texts are looked up in the app's own catalogue (``t``), so that the stories
read the same in both languages: ``t("Log in")`` is 登录 in a Chinese
story, and a text the catalogue lacks fails the Chinese story.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from .cast import PASSWORD, Member

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
CATALOGS = PROJECT_ROOT / "meetings" / "translations"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SCREEN = {"width": 1920, "height": 1080}  # the room's TV or projector
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
TIMEOUT_MS = 15_000  # for an action; a machine running other tests is slow

expect.set_options(timeout=TIMEOUT_MS)

# When a page is wider than the phone: the screen's and the page's widths,
# whether the menu was open, and the innermost elements reaching past the
# right edge (with their parents, by tag, id and classes): what to fix.
TOO_WIDE = """() => {
  const edge = document.documentElement.clientWidth;
  const state = `screen ${edge} px, page ${document.documentElement.scrollWidth} px, `
    + `menu ${document.querySelector("details.menu")?.open ? "open" : "closed"}, `
    + `document ${document.readyState}`;
  const wide = [...document.body.querySelectorAll("*")].filter(
    (node) => node.getBoundingClientRect().right > edge + 0.5);
  return [state, ...wide
    .filter((node) => !wide.some((other) => other !== node && node.contains(other)))
    .slice(0, 5)
    .map((node) => {
      const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + [...el.classList].map((c) => "." + c).join("");
      const path = [];
      for (let el = node; el && el !== document.body && path.length < 4; el = el.parentElement) {
        path.unshift(name(el));
      }
      const box = node.getBoundingClientRect();
      return `${path.join(" > ")} (${Math.round(box.width)} px wide, `
        + `${Math.round(box.right - edge)} px past the edge)`;
    })];
}"""


class Translator:
    """The site's texts in one language, from its compiled catalogue."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        if lang == "en":
            self._catalog = gettext.NullTranslations()  # English is the source text
        else:
            self._catalog = gettext.translation("messages", CATALOGS, languages=["zh_Hans_CN"])

    def _checked(self, msgid: str, text: str) -> str:
        if self.lang != "en":
            assert text != msgid, f"no translation of {msgid!r}"
        return text

    def __call__(self, msgid: str, **values) -> str:
        text = self._checked(msgid, self._catalog.gettext(msgid))
        return text % values if values else text

    def n(self, singular: str, plural: str, num: int, **values) -> str:
        text = self._checked(singular, self._catalog.ngettext(singular, plural, num))
        return text % ({"num": num} | values)


class Story:
    def __init__(self, browser: Browser, base_url: str, folder: Path) -> None:
        self.browser = browser
        self.base_url = base_url
        self.folder = folder
        self.lang = "zh_CN"
        self.t = Translator(self.lang)
        self.errors: list[str] = []
        self._contexts: list[BrowserContext] = []
        self._shots = 0
        folder.mkdir(parents=True, exist_ok=True)

    def speak(self, lang: str) -> None:
        """The language every person of the story chooses on the site."""
        self.lang = lang
        self.t = Translator(lang)

    def phone(self, label: str) -> Actor:
        return self._open(label, on_phone=True)

    def desktop(self, label: str) -> Actor:
        return self._open(label, on_phone=False)

    def big_screen(self, label: str) -> Actor:
        """The room's computer showing the meeting on its TV (投屏): nobody logs in."""
        return self._open(label, on_phone=False, viewport=SCREEN)

    def _open(self, label: str, on_phone: bool, viewport: dict | None = None) -> Actor:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport or (PHONE if on_phone else DESKTOP),
            is_mobile=on_phone,
            has_touch=on_phone,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        page.on("response", self._check_response)
        page.on("pageerror", lambda error: self.errors.append(f"{label}: script error {error}"))
        page.on("console", lambda message: self._check_console(label, message))
        actor = Actor(self, page, label, on_phone)
        if self.lang != "zh_CN":
            actor.choose_language(self.lang)
        return actor

    def _check_response(self, response) -> None:
        if response.status >= 500:
            self.errors.append(f"{response.status} from {response.request.method} {response.url}")

    def _check_console(self, label: str, message) -> None:
        # a page answered 4xx (a form shown again with its errors) is logged
        # as a failed load; the responses are checked on their own
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"{label}: console error {message.text}")

    def shot(self, actor: Actor, step: str) -> None:
        page = actor.page
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[self.lang])
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            raise AssertionError(
                f"{page.url} is {overflow} px wider than the screen of {actor.label}; "
                f"too wide: {', '.join(page.evaluate(TOO_WIDE))}"
            )
        self._shots += 1
        name = f"{self._shots:02d}-{actor.label}-{step}.png"
        page.screenshot(path=self.folder / name, full_page=True)

    def close(self) -> None:
        for context in self._contexts:
            context.close()

    def check_no_errors(self) -> None:
        assert not self.errors, "\n".join(self.errors)


class Actor:
    """One person at their browser."""

    def __init__(self, story: Story, page: Page, label: str, on_phone: bool) -> None:
        self.story = story
        self.page = page
        self.label = label
        self.on_phone = on_phone

    @property
    def t(self) -> Translator:
        return self.story.t

    def shot(self, step: str) -> None:
        self.story.shot(self, step)

    def goto(self, path: str) -> None:
        self.page.goto(path)

    def flash(self, text: str) -> None:
        """The message at the top of the page after an action."""
        expect(self.page.locator(".flashes")).to_contain_text(text)

    def menu(self, link: str) -> None:
        """Follow a link of the site's menu (folded under a button on a phone)."""
        if self.on_phone:
            self.page.locator("summary.menu-button").click()
        self.page.get_by_role("navigation", name=self.t("Main")).get_by_role(
            "link", name=link
        ).click()

    def log_in(self, member: Member) -> None:
        t = self.t
        self.goto("/auth/login")
        self.page.get_by_label(t("Username")).fill(member.username)
        self.page.get_by_label(t("Password")).fill(PASSWORD)
        self.page.get_by_role("button", name=t("Log in"), exact=True).click()
        self.flash(t("Welcome, %(name)s.", name=member.name))

    def log_out(self) -> None:
        if self.on_phone:
            self.page.locator("summary.menu-button").click()
        self.click(self.t("Log out"))
        self.flash(self.t("You have logged out."))

    def choose_language(self, lang: str) -> None:
        """The language switch in the page header, as a person would use it
        on their first visit: the site starts in Chinese."""
        page, chinese = self.page, Translator("zh_CN")
        self.goto("/")
        if self.on_phone:
            page.locator("summary.menu-button").click()
        page.get_by_label(chinese("Language")).select_option(label="English")
        page.get_by_role("button", name=chinese("Switch")).click()
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])

    def click(self, name: str, role: str = "button", exact: bool = True) -> None:
        self.page.get_by_role(role, name=name, exact=exact).click()

    def link(self, name: str, exact: bool = True) -> None:
        self.click(name, role="link", exact=exact)

    def text(self, selector: str) -> str:
        return re.sub(r"\s+", " ", self.page.locator(selector).inner_text()).strip()
