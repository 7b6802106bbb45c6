import os

from pingback import Pingback

pb = Pingback(
    api_key=os.environ["PINGBACK_API_KEY"],
    cron_secret=os.environ["PINGBACK_CRON_SECRET"],
    # `pingback dev` sets this for the code it runs; an app you run yourself for
    # `pingback dev --endpoint` needs it set to the address dev prints. Unset: the hosted service.
    platform_url=os.environ.get("PINGBACK_PLATFORM_URL"),
)
