"""Which object a click on a merged Mesh3d names, worked out in the browser.

Dash's Graph leaves ``customdata`` out of the click data of gl3d traces, so the lookup runs client side: the
clicked vertex's ``customdata`` (the object index, sent as a typed array) indexes the trace's ``meta.ids``.
Only the object id then travels to the server, never the per-vertex arrays.
"""

from __future__ import annotations

import dash
from dash import Input, Output

__all__ = ["register_pick"]

_PICK_JS = """
function(click) {
    const none = window.dash_clientside.no_update;
    if (!click || !click.points || !click.points.length) { return none; }
    const point = click.points[0];
    const gd = document.querySelector('#%(graph)s .js-plotly-plot');
    const trace = gd && gd.data[point.curveNumber];
    if (!trace || trace.type !== 'mesh3d' || !trace.customdata) { return none; }
    let owners = trace.customdata;
    if (owners.bdata !== undefined) {
        const bytes = Uint8Array.from(atob(owners.bdata), c => c.charCodeAt(0));
        const kind = {u1: Uint8Array, u2: Uint16Array, i2: Int16Array, u4: Uint32Array, i4: Int32Array};
        owners = new (kind[owners.dtype] || Int32Array)(bytes.buffer);
    }
    const holder = gd.data.find(t => t.meta && t.meta.ids);
    const index = owners[point.pointNumber];
    return holder && index !== undefined ? holder.meta.ids[index] : none;
}
"""


def register_pick(app: dash.Dash, graph_id: str, store_id: str) -> None:
    """Write the id of the object clicked in ``graph_id`` into the dcc.Store ``store_id``."""
    app.clientside_callback(
        _PICK_JS % {"graph": graph_id},
        Output(store_id, "data"),
        Input(graph_id, "clickData"),
        prevent_initial_call=True,
    )
