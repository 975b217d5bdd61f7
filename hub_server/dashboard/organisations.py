"""Placeholder: this page is being written."""

from fastapi import APIRouter

router = APIRouter()
