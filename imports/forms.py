from __future__ import annotations

from django import forms

from .layouts import MAX_FILE_BYTES

LAYOUT_CHOICES = [
    ("", "Read it from the file's header"),
    ("tate", "Tate artwork_data.csv"),
    ("tate2013", "Tate 2013 artwork file (15 columns)"),
    ("tate-json", "Tate per-artwork JSON (.json or .zip)"),
    ("moma", "MoMA Artworks.csv"),
    ("artspot", "ArtSpot template"),
]
SUFFIXES = (".csv", ".json", ".zip")


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8), Tate JSON or a .zip of Tate JSON and images.")
    artists_file = forms.FileField(
        required=False, help_text="Optional: artist_data.csv or MoMA Artists.csv."
    )
    layout = forms.ChoiceField(choices=LAYOUT_CHOICES, required=False)

    def _checked(self, name: str):
        upload = self.cleaned_data.get(name)
        if upload is None:
            return upload
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError("The file is larger than 200 MB.")
        if not upload.name.lower().endswith(SUFFIXES):
            raise forms.ValidationError("Upload a .csv, .json or .zip file.")
        return upload

    def clean_file(self):
        return self._checked("file")

    def clean_artists_file(self):
        return self._checked("artists_file")
