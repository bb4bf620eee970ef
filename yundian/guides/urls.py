from django.urls import path

from . import task_views, views, workbench_views as wb

app_name = "guides"

urlpatterns = [
    path("commission/", views.my_commission, name="my_commission"),
    path("commission/all/", views.store_commission, name="store_commission"),
    path("calls/", views.my_calls, name="my_calls"),
    path("calls/<int:entry_id>/outcome/", views.call_outcome, name="call_outcome"),
    path("calls/<int:entry_id>/dial/", views.call_dial, name="call_dial"),
    path("call-lists/", views.call_lists, name="call_lists"),
    path("call-lists/<int:call_list_id>/", views.call_list_detail, name="call_list_detail"),
    # the guide's phone pages (one home, a bottom tab bar)
    path("me/", task_views.guide_home, name="home"),
    path("me/tasks/<int:task_id>/", task_views.task_detail, name="task"),
    path("me/tasks/<int:task_id>/done/", task_views.task_done, name="task_done"),
    path("me/customers/<int:member_id>/", task_views.customer_detail, name="customer"),
    path("me/customers/<int:member_id>/contact/", task_views.contact_add, name="contact_add"),
    path("me/ranking/", wb.my_ranking, name="ranking"),
    path("me/money/", task_views.my_money, name="money"),
    # managers
    path("tasks/", task_views.plans, name="plans"),
    path("tasks/<int:plan_id>/", task_views.plan_detail, name="plan"),
    path("accounting/", task_views.guide_accounting, name="accounting"),
    path("handover/", task_views.handover_page, name="handover"),
    # guide workbench: the guide's phone
    path("share/", wb.share_home, name="share_home"),
    path("share/<int:material_id>/", wb.share_material, name="share_material"),
    path("share/poster/<int:share_id>.png", wb.share_poster, name="share_poster"),
    path("groups/", wb.my_groups, name="my_groups"),
    path("groups/<int:group_id>/", wb.group_detail, name="group_detail"),
    path("groups/<int:group_id>/qr.png", wb.group_qr, name="group_qr"),
    path("ranking/", wb.my_ranking_moved, name="my_ranking"),  # moved to me/ranking/
    # ... and the console
    path("materials/", wb.material_library, name="material_library"),
    path("funnels/", wb.share_funnels, name="share_funnels"),
    path("competitions/", wb.competition_list, name="competition_list"),
    path("competitions/<int:competition_id>/", wb.competition_detail, name="competition_detail"),
]
