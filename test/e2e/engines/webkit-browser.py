#!/usr/bin/python3
"""A minimal WebKitGTK browser for WebKitWebDriver that keeps website data on disk.

MiniBrowser in automation mode always uses an ephemeral (in-memory) website data manager, so a
WebDriver session there forgets IndexedDB when it ends. WebKitWebDriver can launch any browser
binary that speaks its automation protocol: this one is WebKit2GTK 4.1 through its GObject API
(python3-gi, gir1.2-webkit2-4.1), with a WebsiteDataManager whose base directories are
$OAUTH_SPA_WEBKIT_PROFILE. webkit.mjs uses it for launch({ profileDir }).

WebKitWebDriver starts it with --automation and tells it where to connect through the environment
(the automation session itself is WebKit's business); it only has to allow automation, answer
'automation-started' and create a web view whenever the session asks for one.
"""
import os
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import Gtk, WebKit2  # noqa: E402


def main():
    profile = os.environ.get('OAUTH_SPA_WEBKIT_PROFILE')
    if not profile:
        sys.exit('webkit-browser.py: OAUTH_SPA_WEBKIT_PROFILE (the profile folder) is not set')
    if '--automation' not in sys.argv[1:]:
        sys.exit('webkit-browser.py: only runs under WebKitWebDriver (--automation)')
    manager = WebKit2.WebsiteDataManager(
        base_data_directory=os.path.join(profile, 'data'),
        base_cache_directory=os.path.join(profile, 'cache'),
    )
    context = WebKit2.WebContext.new_with_website_data_manager(manager)
    context.set_automation_allowed(True)
    windows = []

    def create_view(_session):
        view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True)
        window = Gtk.Window()
        window.set_default_size(1024, 768)
        window.add(view)
        windows.append(window)

        def closed(_view):
            window.destroy()
            windows.remove(window)

        view.connect('close', closed)
        window.show_all()
        return view

    def automation_started(_context, session):
        info = WebKit2.ApplicationInfo()
        info.set_name('MiniBrowser')
        info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
        session.set_application_info(info)
        session.connect('create-web-view', create_view)

    context.connect('automation-started', automation_started)
    Gtk.main()


if __name__ == '__main__':
    main()
