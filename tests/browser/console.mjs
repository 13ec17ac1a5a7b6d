// Drives Debian's Chromium through playwright-core for ConsoleBrowserTests. Reads one JSON document on stdin:
//   { base, chromium, artifacts, steps: [{ name, goto, actions: [...], waitFor, evaluate, screenshot }] }
// and writes one JSON document on stdout: { results: [{ name, errors, value, error }] }. Each step loads its
// page afresh (about:blank first), so a step never sees the previous view's DOM; console errors and uncaught
// exceptions are collected per step. Actions: {fill: [selector, text]}, {click: selector}, {hover: selector},
// {waitFor: selector}, {waitText: [selector, text]}.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const spec = JSON.parse(readFileSync(0, "utf8"));
const timeout = spec.timeoutMs || 60000;
const browser = await chromium.launch({
  executablePath: spec.chromium || "/usr/bin/chromium",
  // Root in CI has no user namespace sandbox; the pages come only from the test's own loopback daemon.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  timeout,
});
const results = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  let errors = [];
  page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", e => errors.push("uncaught: " + e.message));
  for (const step of spec.steps) {
    errors = [];
    const result = { name: step.name, errors, value: null, error: null };
    try {
      if (step.goto) {
        await page.goto("about:blank");
        await page.goto(spec.base + step.goto);
      }
      for (const a of step.actions || []) {
        if (a.fill) await page.fill(a.fill[0], a.fill[1]);
        else if (a.click) await page.click(a.click);
        else if (a.hover) await page.hover(a.hover);
        else if (a.waitFor) await page.waitForSelector(a.waitFor, { state: "attached" });
        else if (a.waitText) await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent.includes(t), a.waitText);
      }
      if (step.waitFor) await page.waitForSelector(step.waitFor, { state: "attached" });
      if (step.evaluate) result.value = await page.evaluate(step.evaluate);
      if (step.screenshot && spec.artifacts) await page.screenshot({ path: join(spec.artifacts, step.screenshot), fullPage: true });
    } catch (e) {
      result.error = String(e && e.message || e);
    }
    results.push(result);
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ results }));
