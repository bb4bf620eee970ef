from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/", views.org_tree, name="org_tree"),
    path("org/nodes/new/", views.org_node_create, name="org_node_create"),
    path("org/nodes/<int:node_id>/", views.org_node_detail, name="org_node_detail"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("inbox/", views.inbox, name="inbox"),
    path("pick/<slug:kind>/", views.pick, name="pick"),
    path("audit/", views.audit_list, name="audit_list"),
]
