"""The staff pages: login, the follow-up queue, a follow-up's detail, admin.

Everything goes through Flask's test client against the real (test) Redis: logins through the
login form with its CSRF token, screenings texted through the webhook (dev mode) with their
jobs run in-process, follow-ups seeded through FollowupStore.create where a test needs exact
priorities, times or odd values.
"""
