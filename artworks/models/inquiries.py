"""Enquiries about a work, typically one offered at 'price on request'."""

from django.db import models


class ArtworkInquiry(models.Model):
    artwork = models.ForeignKey(
        "artworks.Artwork", on_delete=models.PROTECT, related_name="inquiries"
    )
    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    message = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    team_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    handled = models.BooleanField(default=False, help_text="Tick once the team has replied.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "artwork enquiries"
        verbose_name = "artwork enquiry"

    def __str__(self) -> str:
        return f"{self.name} about {self.artwork.title}"
