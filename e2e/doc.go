// Package e2e drives the whole platform through a real browser: headless
// Chromium, started by chromedp, against the composition root on a loopback
// server. The browser test skips when no Chromium is installed
// (/usr/bin/chromium, or the binary named by DANCU_CHROMIUM).
package e2e
