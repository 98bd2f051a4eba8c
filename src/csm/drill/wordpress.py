"""WordPress-shaped sites (and one plain site) in the simulated host's homes."""

from __future__ import annotations

import hashlib

from csm.accounts.wordpress import SALT_KEYS
from csm.drill.plan import Account, Site
from csm.drill.tree import Tree

WP_VERSION = "6.6.2"
HTACCESS = """# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
"""
SILENCE = "<?php\n// Silence is golden.\n"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def write_sites(tree: Tree, account: Account) -> None:
    for site in account.sites:
        root = f"{account.home}/{site.docroot}"
        tree.mkdir(root, 0o750)
        if site.wordpress:
            _wordpress(tree, root, site)
        else:
            _plain_site(tree, root, site)


def wp_config(site: Site) -> str:
    defines = [
        ("DB_NAME", site.db_name),
        ("DB_USER", site.db_user),
        ("DB_PASSWORD", site.db_password),
        ("DB_HOST", "localhost"),
        ("DB_CHARSET", "utf8mb4"),
        ("DB_COLLATE", ""),
    ]
    defines += [(key, _salt(site, key)) for key in SALT_KEYS]
    body = "".join(f"define( '{key}', '{value}' );\n" for key, value in defines)
    return (
        "<?php\n/** The base configuration for WordPress */\n\n"
        + body
        + "\n$table_prefix = 'wp_';\n\ndefine( 'WP_DEBUG', false );\n\n"
        + "if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\n\n"
        + "require_once ABSPATH . 'wp-settings.php';\n"
    )


def _salt(site: Site, key: str) -> str:
    return hashlib.sha256(f"{site.db_name}:{key}".encode()).hexdigest()


def _wordpress(tree: Tree, root: str, site: Site) -> None:
    files = {
        "wp-config.php": (wp_config(site), 0o600),
        "index.php": (
            "<?php\ndefine( 'WP_USE_THEMES', true );\nrequire __DIR__ . '/wp-blog-header.php';\n",
            0o644,
        ),
        "wp-blog-header.php": ("<?php\nrequire_once __DIR__ . '/wp-load.php';\nwp();\n", 0o644),
        "wp-load.php": (
            "<?php\ndefine( 'ABSPATH', __DIR__ . '/' );\nrequire_once ABSPATH . 'wp-config.php';\n",
            0o644,
        ),
        "wp-settings.php": (
            "<?php\ndefine( 'WPINC', 'wp-includes' );\nrequire ABSPATH . WPINC . '/version.php';\n",
            0o644,
        ),
        "wp-login.php": ("<?php\nrequire __DIR__ . '/wp-load.php';\n// login form\n", 0o644),
        ".htaccess": (HTACCESS, 0o644),
        "wp-includes/version.php": (
            f"<?php\n$wp_version = '{WP_VERSION}';\n$wp_db_version = 57155;\n",
            0o644,
        ),
        "wp-content/index.php": (SILENCE, 0o644),
        "wp-content/plugins/index.php": (SILENCE, 0o644),
        "wp-content/plugins/akismet/akismet.php": (
            "<?php\n/*\nPlugin Name: Akismet Anti-spam\nVersion: 5.3.3\n*/\n",
            0o644,
        ),
        "wp-content/themes/twentytwentyfour/style.css": (
            "/*\nTheme Name: Twenty Twenty-Four\nVersion: 1.2\n*/\n",
            0o644,
        ),
        "wp-content/themes/twentytwentyfour/functions.php": (
            "<?php\n// Twenty Twenty-Four functions\n",
            0o644,
        ),
    }
    for name, (content, mode) in files.items():
        tree.write(f"{root}/{name}", content, mode)
    tree.write(f"{root}/wp-content/uploads/2026/10/logo.png", PNG_1PX)


def _plain_site(tree: Tree, root: str, site: Site) -> None:
    tree.write(
        f"{root}/index.html",
        f"<!doctype html>\n<title>{site.domain}</title>\n<h1>{site.domain}</h1>\n",
    )
    tree.write(
        f"{root}/contact.php",
        "<?php\n// Contact form: mails the site owner.\n"
        "if ($_SERVER['REQUEST_METHOD'] === 'POST') {\n"
        f"    mail('info@{site.domain}', 'Website enquiry', strip_tags($_POST['message'] ?? ''));\n"
        "}\n",
    )
