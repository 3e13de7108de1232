"""A Flask route that caches a slow lookup with redkit (cache-aside + delete-on-write).
Run against a real server through Flask's test client:

    pip install flask
    REDIS_URL=redis://127.0.0.1:6379 python flask_route.py
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, abort, jsonify, request

import redkit

app = Flask(__name__)
# One client per process, made at import: it survives gunicorn's fork (a worker
# reconnects on first use).
client = redkit.Client.connect(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), prefix="example")
products = client.cache("products", ttl=300, jitter=30)

CATALOG: dict[int, dict[str, Any]] = {1: {"id": 1, "name": "Kettle", "price": 25}}
lookups = 0


class ProductMissing(Exception):
    pass


def load_product(product_id: int) -> dict[str, Any]:
    global lookups
    lookups += 1
    time.sleep(0.05)  # the slow query the cache is for
    if product_id not in CATALOG:
        raise ProductMissing(product_id)
    return CATALOG[product_id]


@app.get("/products/<int:product_id>")
def get_product(product_id: int) -> Any:
    try:
        return jsonify(products.get_or_set(str(product_id), lambda: load_product(product_id)))
    except ProductMissing:
        abort(404)


@app.put("/products/<int:product_id>")
def put_product(product_id: int) -> Any:
    CATALOG[product_id] = {**(request.get_json() or {}), "id": product_id}
    products.delete(str(product_id))  # delete on write
    return jsonify(CATALOG[product_id])


if __name__ == "__main__":
    products.delete("1", "2")
    http = app.test_client()
    assert http.get("/products/1").get_json()["name"] == "Kettle"
    assert http.get("/products/1").get_json()["name"] == "Kettle" and lookups == 1
    assert http.put("/products/1", json={"name": "Kettle v2", "price": 30}).status_code == 200
    assert http.get("/products/1").get_json()["name"] == "Kettle v2" and lookups == 2
    assert http.get("/products/2").status_code == 404
    client.close()
    print("flask route: ok")
