from app.authz.permissions import PERMISSIONS, SCOPE_GRANTS, Permission, Reach, reach
from app.authz.service import authorize, can

__all__ = ["PERMISSIONS", "SCOPE_GRANTS", "Permission", "Reach", "authorize", "can", "reach"]
