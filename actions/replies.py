"""Chinese texts the actions send that don't come from the service."""

SERVICE_DOWN = (
    "抱歉，政策查询暂时出了点问题，我这会儿答不上来。"
    "您可以稍后再问，或者拨打 12345 政务服务便民热线、12349 民政服务热线，工作人员会帮您解答。"
)

EMERGENCY_FOOTER = "如果有生命危险，请立即拨打 110、120 或 119。"

PLACE_BUTTONS = [
    {"title": "渠县", "payload": '/tell_place{"place": "渠县"}'},
    {"title": "达州", "payload": '/tell_place{"place": "达州市"}'},
    {"title": "巴中", "payload": '/tell_place{"place": "巴中市"}'},
    {"title": "会宁", "payload": '/tell_place{"place": "会宁县"}'},
]

HANDOVER_BUTTONS = [
    {"title": "转给工作人员", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]
