"""Product membership and the people of the portfolio. Importing the package registers its
memberships with app.core.context, which reads and grants them without importing a domain."""

from app.core.context import use_memberships
from app.members.repository import ProductMemberships

use_memberships(ProductMemberships())
