"""What the bot says that does not come from the knowledge base."""

from __future__ import annotations

BUTTON_HOW = "怎么认证"
BUTTON_WHEN = "什么时候认证"
BUTTON_FAMILY = "帮家人认证"
BUTTON_MISSED = "错过了怎么办"
BUTTON_REMIND = "设置提醒"

# The topic a keyboard button opens: straight to its answer, never through the matcher.
BUTTON_TOPICS = {
    BUTTON_HOW: "how-to-certify",
    BUTTON_FAMILY: "proxy-certify",
    BUTTON_MISSED: "missed-makeup",
}

START = (
    "您好，{name}！我是养老金认证助手 🙂\n\n"
    "我可以帮您弄清楚养老金资格认证（每年一次证明本人健在、还能领待遇）："
    "怎么在手机上认证、怎么帮家里老人认证、什么时候到期、错过了怎么补。\n\n"
    "直接打字问我就行，比如“我妈在外地，怎么认证？”，也可以点下面的大按钮。\n"
    "认证是免费的。我不会问您要身份证号、密码或银行卡号，请也不要发给我。"
)
HELP = (
    "可以直接打字问我认证方面的问题。常用命令：\n"
    "/deadline 算一算下次什么时候要认证\n"
    "/city 设置或更改您所在的城市\n"
    "/remind 设置认证到期提醒\n"
    "/myreminders 查看我的提醒\n"
    "/stop 停止所有提醒\n"
    "/forget 删除我存的您的信息\n"
    "/cancel 取消当前操作\n"
    "/help 显示这段说明\n\n"
    "在群里：@我 或回复我的消息来提问；群管理员可以用 /autoanswer 让我自动回答认证问题。\n"
    "在任何聊天里输入 @{username} 加问题，也能直接把答案发出去。"
)
GROUP_HELP = (
    "在群里问我认证的事：@我 加问题，或者回复我的消息，也可以发 /ask 加问题。\n"
    "群管理员可以用：\n"
    "/autoanswer 开启自动回答（/autoanswer 关 关闭）\n"
    "/remind 每月1日 09:00 提醒内容：每月给群里发提醒（只发 /remind 查看和删除）\n"
    "/broadcast 给本群发通知\n"
    "/stats 看看本群问了什么\n"
    "到期提醒、算到期日这些，请私聊我：点我的头像，发送 /start。"
)
NON_TEXT = (
    "抱歉，我只能看懂文字和截图里的字，语音、表情和文件我还看不了。"
    "请把问题打成文字发给我，或者点下面的按钮。"
)
FEEDBACK_THANKS = "谢谢您的反馈！"
FEEDBACK_SORRY = "谢谢！我们会改进这个回答。您也可以换个说法再问，或拨打12333。"
ERROR = "抱歉，刚才出了点问题，请稍后再试一次。"
GROUP_ONLY_ADMINS = "只有群管理员可以更改这个设置。"
AUTOANSWER_ON = (
    "已开启自动回答：群里有人问认证问题、而且我很有把握时，我会直接回答；闲聊我不会插话。"
)
# What works without admin rights, said to group admins (who cannot change the bot's settings).
AUTOANSWER_SEES_ALL = "我能看到群里的每条消息，不用@我也行。"
AUTOANSWER_NEEDS_ADMIN = (
    "现在我只能看到@我的消息、回复我的消息和 /ask 命令。"
    "想让我看到大家直接问的问题，请把我设为本群管理员（群设置 → 管理员 → 添加管理员）。"
)
GROUP_WELCOME = (
    "大家好！我是养老金认证助手 🙂\n"
    "养老金每年要认证一次（证明本人健在）。怎么在手机上认证、怎么帮老人认证、"
    "什么时候到期、错过了怎么补，都可以问我。提问时 @我，或者回复我的消息。\n\n"
    "请群管理员做三步：\n"
    "1. 发 /autoanswer：有人问认证的事，我自动回答。\n"
    "2. 发 /remind：每月按时提醒大家认证。\n"
    "3. 发 /broadcast：给本群发通知。\n"
    "把我设为群管理员，我还能看到大家直接问的问题，并删掉误发的身份证号。"
)
GROUP_NOTICES_RESUMED = ("本群之前设的定期提醒（{when}）接着发。"
                         "不要了的话，管理员发 /remind 可以删除。")
ID_DELETED = (
    "⚠️ 刚才有人把身份证号或银行卡号发到了群里，群里的人都能看到。"
    "为了保护他，我已经把那条消息删掉了。\n"
    "认证不需要把这些号码发给任何人，请大家不要在群里发。"
)
ID_CANNOT_DELETE = (
    "⚠️ 这条消息里有身份证号或银行卡号，群里的人都能看到。"
    "我没有删除消息的权限，请发消息的人自己删掉：长按这条消息，点“删除”。\n"
    "认证不需要把这些号码发给任何人。"
)
# The same for a picture sent to the bot whose text shows such a number (tg/handlers/picture.py).
PICTURE_ID_DELETED = (
    "⚠️ 刚才那张图片里有身份证号或银行卡号，群里的人都能看到。"
    "为了保护发图的人，我已经把图片删掉了。\n"
    "认证不需要把这些号码发给任何人，请大家不要在群里发。"
)
PICTURE_ID_CANNOT_DELETE = (
    "⚠️ 这张图片里有身份证号或银行卡号，群里的人都能看到。"
    "我没有删除的权限。发图的人，请尽快撤回这张图片：长按图片，点“删除”。\n"
    "认证不需要把这些号码发给任何人。"
)
GROUP_STATS_REFUSED = "抱歉，本群的统计只给本群管理员看。"
AUTOANSWER_OFF = "已关闭自动回答。需要时请 @我 或回复我的消息提问。"
AUTOANSWER_USAGE = "开启自动回答发 /autoanswer 或 /autoanswer 开；关闭发 /autoanswer 关。"
GROUP_START = "您好！在群里 @我 或回复我的消息就能提问；更多功能请私聊我：点我的头像，发送 /start。"
GROUP_PRIVATE_ONLY = "这个功能请私聊我使用：点我的头像，发送 /start。"
INLINE_EMPTY_TITLE = "输入问题，例如：刷脸失败怎么办"
CITY_ASK = "请告诉我您所在的城市或省份（例如：锦州、广州、四川）。发送“跳过”则不设置城市。"
CITY_SET = "好的，已记住您的地区：{place}。以后回答会优先按这里的规定。"
CITY_UNKNOWN = (
    "我没找到“{place}”这个地方，已先按全国通用规则处理。"
    "您可以再发一次城市名，例如“锦州”。"
)
CITY_CLEARED = "好的，已清除地区设置。"
CANCELLED = "好的，已取消。有问题随时问我。"
ASK_USAGE = "请在 /ask 后面写上问题，例如：/ask 刷脸失败怎么办"
UNKNOWN_COMMAND = (
    "我不认识这个命令。有问题直接打字问我就行，例如“刷脸失败怎么办”。\n"
    "常用命令：/deadline 算到期日，/remind 设置提醒，/help 查看全部说明。"
)
PLACE_GUESS = "没找到“{place}”这个地方。您是说{first}吗？点下面的名字，或者点“跳过”。"
NON_TEXT_VOICE = (
    "抱歉，我还听不了语音。"
    "用手机键盘上的“语音输入”（话筒按钮）把话变成文字再发给我。"
)
