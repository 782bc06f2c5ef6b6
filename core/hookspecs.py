"""The plugin contract: every hook a vendor plugin implements (and one any plugin may).

How a call reaches only the configured vendor: each plugin is registered under its entry-point
name (the key under ``integrations:`` in the YAML). The core never broadcasts a vendor hook; it
calls it through ``pm.subset_hook_caller`` with every other plugin removed (see
``core.host.plugins.VendorFacade``), and every vendor spec is ``firstresult``. Only
``integrator_register_commands`` is broadcast to every plugin. A plugin therefore never needs
to check which vendor is meant, and two plugins never answer the same call.

Hooks are always called with keyword arguments. Specs grow by new parameters, never by renames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from core.config.settings import VendorSettings
    from core.types import (
        Connection,
        Deactivation,
        DemoSandbox,
        LicenceGone,
        Listing,
        VendorCharge,
        VendorCustomer,
        VendorSubscription,
    )

hookspec = pluggy.HookspecMarker("integrator")

#: The version of this contract. Bumped on any change a plugin must know of.
HOOK_CONTRACT_VERSION = 1


@hookspec
def integrator_register_commands(cli: click.Group) -> None:
    """Add the plugin's own commands to the ``integrator`` command group.

    Called for every loaded plugin when the command line starts; optional.

    :param cli: the ``integrator`` click group; call ``cli.add_command(...)``.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_settings_model() -> type[VendorSettings]:
    """Return the pydantic settings class for this vendor's ``integrations.<name>`` block.

    It must subclass :class:`core.config.settings.VendorSettings` and add only the vendor's own keys
    (URL, credentials, file...). Unknown keys are refused by the core. Optional: a plugin that
    does not implement it gets ``VendorSettings`` unchanged.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_connect(settings: VendorSettings) -> Connection:
    """Authenticate with the vendor using ``settings`` and return a live :class:`Connection`.

    ``Connection.account`` names the account logged in as (None when the API cannot say). Raise a subclass of
    :class:`core.errors.VendorError` (``AuthenticationError``, ``MfaNotSupportedError``,
    ``VendorUnreachableError``...) whose message tells a person what to do. Never put a password
    or token in a message. The core calls ``Connection.close()`` when the sync is done; put the
    logout in ``Connection.closer``. Required.

    :param settings: the validated ``integrations.<name>`` block, an instance of the class
        :func:`integrator_settings_model` returned.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_list_customers(connection: Connection) -> Listing[VendorCustomer]:
    """Return every customer company below the connected account.

    Records that cannot be read go to ``Listing.problems`` and are skipped; raise a
    ``VendorError`` only when the listing as a whole failed (then nothing is changed). Required.

    :param connection: what :func:`integrator_connect` returned.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_list_subscriptions(
    connection: Connection, customer: VendorCustomer
) -> Listing[VendorSubscription]:
    """Return every subscription of one customer company, terminated ones included.

    A listing is complete or it raises: a licence absent from a returned listing is treated as
    deleted upstream, so never return a partial list. Unreadable records go to ``problems``
    (their licences are then left untouched). Called on up to ``max_concurrency`` threads at
    once, all sharing one ``connection``: the client must be thread-safe. Required.

    :param connection: what :func:`integrator_connect` returned, shared by every thread.
    :param customer: one of the customers :func:`integrator_list_customers` returned.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_list_charges(connection: Connection, year: int, month: int) -> Listing[VendorCharge]:
    """Return what the vendor invoiced the connected account for one calendar month.

    One :class:`VendorCharge` per invoice line: the subscription and its company, the days it
    covers, the units, the unit cost and the cost (``Decimal``). For a month not yet closed, the
    vendor's preview (projected) invoice when it has one. Charge lines that cannot be read go to
    ``Listing.problems``; raise a ``VendorError`` when the invoice as a whole cannot be read.

    Optional: a plugin that does not implement it has no invoice data, and
    ``integrator billing reconcile`` says so instead of failing.

    :param connection: the live connection returned by ``integrator_connect``.
    :param year: the calendar year of the month, e.g. ``2026``.
    :param month: the month, ``1`` to ``12``.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_deactivate(licences: list[LicenceGone], settings: VendorSettings) -> list[Deactivation]:
    """Decide how each licence that was terminated or deleted upstream is deactivated.

    Return one :class:`Deactivation` per entry of ``licences``; the core applies them (and may
    hold back a mass deactivation). Called inside the database transaction that writes these
    licences (for deletions, once every listing of the run is in): decide from the arguments
    only, quickly, without I/O. Optional: without
    it, ``core.host.lifecycle.default_deactivations`` applies (terminated: inactive; deleted: inactive
    with ``deactivate_deleted_licences``, else quantity 0).

    :param licences: the licences to decide on, each with its reason (terminated or deleted).
    :param settings: the integration's validated settings.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_demo_sandbox() -> DemoSandbox:
    """Start a loopback stand-in of the vendor serving demo data and return it, for ``integrator demo``.

    The core writes ``DemoSandbox.settings`` as the integration's block of the demo configuration,
    syncs it, and calls ``DemoSandbox.stop()`` at the end. Optional: vendors without one are left
    out of the demo.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_sandbox_command() -> click.Command:
    """Return the click command that serves the vendor's loopback sandbox in the foreground.

    The core serves it as ``integrator sandbox VENDOR [its options]`` (VENDOR may be left out when
    exactly one loaded plugin has a sandbox); the command's own options are the vendor's (port,
    credentials it accepts, dataset size...). Optional.

    .. versionadded:: 1
    """


@hookspec(firstresult=True)
def integrator_display_name() -> str:
    """Return the vendor's name as people write it (its brand, not its entry-point name), for tables, the console
    and messages. The plugin name (the key under ``integrations:``) stays what commands take.

    Optional: without it, the plugin name is shown. Keep it short (at most 40 characters).

    .. versionadded:: 1
    """
