"""Chinese texts the actions send that don't come from the knowledge base."""

SERVICE_DOWN = (
    "抱歉，政策查询暂时出了点问题，我这会儿答不上来。"
    "您可以稍后再问，或者拨打 12345 政务服务便民热线、12349 民政服务热线，工作人员会帮您解答。"
)

