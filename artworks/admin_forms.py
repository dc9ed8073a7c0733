"""The artwork edit form: rules that span the artwork and its gallery."""

from wagtail.admin.forms import WagtailAdminModelForm

NO_IMAGE = "Add at least one image of the work to the gallery."


class ArtworkAdminForm(WagtailAdminModelForm):
    def is_valid(self) -> bool:
        # The gallery formset is validated with the form, so the rule is checked after both.
        valid = super().is_valid()
        gallery = self.formsets.get("gallery_images")
        if gallery is not None and gallery.is_valid():
            kept = [
                form
                for form in gallery.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
            if not kept:
                self.add_error(None, NO_IMAGE)
                return False
        return valid
