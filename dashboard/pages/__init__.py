"""One module per page: ``PATH``, ``MENU_PATH``, ``TITLE``, ``layout(ctx, **params)``, ``register(app, ctx)``.
Component ids are prefixed by the page's name."""
