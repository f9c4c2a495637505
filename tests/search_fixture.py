"""A shared fixture of varied Vietnamese articles and the queries asked of it: the unit
tests check the ranking on SQLite, tests/integration/test_search_pg.py checks that
PostgreSQL answers every query exactly as SQLite does (decision 33)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

T0 = datetime(2027, 2, 3, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    title: str
    body: str
    summary: str | None = None
    categories: tuple[str, ...] = ()
    hours_ago: int = 0
    status: str = "published"  # or draft, scheduled, withdrawn
    author: str | None = None
    caption: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


SEED_TITLE = "Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"

ITEMS: tuple[Item, ...] = (
    Item(
        SEED_TITLE,
        "<p>Sáng 3/2, Thành ủy Đà Nẵng long trọng tổ chức lễ kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản "
        "Việt Nam. Dự buổi lễ có đông đảo cán bộ, đảng viên và nhân dân.</p>",
        "Thành ủy Đà Nẵng tổ chức lễ kỷ niệm, ôn lại truyền thống vẻ vang của Đảng.",
        ("Xây dựng Đảng", "Thời sự"),
        hours_ago=1,
        author="Ban Tuyên giáo",
    ),
    Item(
        "Đảng Cộng sản Việt Nam: 96 năm một chặng đường",
        "<p>Bài viết nhìn lại chặng đường 96 năm của Đảng.</p>",
        categories=("Xây dựng Đảng",),
        hours_ago=24 * 365,
    ),
    Item(
        "Thành phố đang triển khai chuyển đổi số trong các phường",
        "<p>Các phường đang thí điểm dịch vụ công trực tuyến mức độ 4.</p>",
        "Đà Nẵng đang đẩy mạnh chuyển đổi số.",
        ("Khoa học - Công nghệ",),
        hours_ago=2,
    ),
    Item(
        "Hội nghị Ban Chấp hành Đảng bộ thành phố lần thứ 15",
        "<p>Hội nghị bàn về công tác xây dựng Đảng và hệ thống chính trị.</p>",
        categories=("Xây dựng Đảng",),
        hours_ago=5,
    ),
    Item(
        "Giá xăng đang tăng trở lại",
        "<p>Từ 15 giờ chiều nay giá xăng RON 95 tăng 500 đồng mỗi lít.</p>",
        categories=("Kinh tế",),
        hours_ago=3,
    ),
    Item(
        "Đăng ký học trực tuyến cho học sinh lớp 1",
        "<p>Phụ huynh đăng ký trên cổng dịch vụ công của thành phố.</p>",
        categories=("Giáo dục",),
        hours_ago=4,
    ),
    Item(
        "Lễ hội pháo hoa quốc tế Đà Nẵng 2027",
        "<p>Đêm khai mạc có sự tham gia của các đội đến từ Pháp, Ý và Việt Nam. Lượng khách đáng kể.</p>",
        "Du khách đổ về bờ sông Hàn.",
        ("Du lịch",),
        hours_ago=6,
        caption="Pháo hoa trên sông Hàn. Ảnh: Nguyễn Đăng",
    ),
    Item(
        "Phường Hoà Khánh Bắc ra mắt mô hình dân vận khéo",
        "<p>Mô hình giúp người dân hoà giải mâu thuẫn ở cơ sở.</p>",
        categories=("Xã hội",),
        hours_ago=7,
    ),
    Item(
        "Phường Hòa Khánh Nam tổ chức ngày hội đại đoàn kết",
        "<p>Ngày hội đại đoàn kết toàn dân tộc năm 2026.</p>",
        categories=("Xã hội",),
        hours_ago=8,
    ),
    Item(
        "Thuỷ lợi phục vụ sản xuất vụ đông xuân",
        "<p>Các hồ thủy lợi tích nước đạt 90% dung tích thiết kế.</p>",
        categories=("Nông nghiệp",),
        hours_ago=9,
    ),
    Item(
        "Thủy sản xuất khẩu tăng trưởng",
        "<p>Kim ngạch xuất khẩu thủy sản quý I tăng 12%.</p>",
        categories=("Kinh tế",),
        hours_ago=10,
    ),
    Item(
        "Tọa đàm về công tác tuyên giáo",
        "<p>Đại biểu thảo luận về vai trò của báo chí cách mạng trong xây dựng Đảng.</p>",
        "Tọa đàm nhân kỷ niệm Ngày Báo chí cách mạng Việt Nam.",
        ("Xây dựng Đảng", "Văn hóa"),
        hours_ago=11,
    ),
    Item(
        "Đón Tết an toàn, tiết kiệm",
        "<p>Thành phố yêu cầu các cơ quan tổ chức đón Tết an toàn. Cộng đồng dân cư tham gia giữ gìn an ninh.</p>",
        "Không sử dụng pháo nổ; Đảng bộ các phường tuyên truyền đến từng hộ dân.",
        ("Thời sự",),
        hours_ago=12,
    ),
    Item(
        "Sân chơi cho thiếu nhi dịp hè",
        "<p>Nhiều sân chơi được mở tại các công viên. Đây là hoạt động của Đoàn thanh niên cộng sản Hồ Chí Minh.</p>",
        categories=("Xã hội",),
        hours_ago=13,
    ),
    Item(
        "Bản tin thời tiết: mưa lớn ở vùng núi",
        "<p>" + "Trời nhiều mây, có mưa rào rải rác. " * 60 + "Cuối bản tin: chính quyền đang theo dõi sạt lở.</p>",
        categories=("Thời sự",),
        hours_ago=14,
    ),
    Item(
        "COVID-19: tiêm vắc-xin mũi nhắc lại cho người cao tuổi",
        "<p>Trung tâm Kiểm soát bệnh tật (CDC) khuyến cáo tiêm mũi nhắc lại; covid19 vẫn lưu hành.</p>",
        categories=("Y tế",),
        hours_ago=15,
    ),
    Item(
        "Tin ngắn <script>alert('x')</script> về Đảng",
        "<p>Một bài có tiêu đề chứa mã <b>đậm</b> &amp; ký tự đặc biệt.</p>",
        categories=("Thời sự",),
        hours_ago=16,
    ),
    Item(
        "Hai bài cùng giờ: bài A về đảng viên",
        "<p>Nội dung A.</p>",
        categories=("Xây dựng Đảng",),
        hours_ago=17,
    ),
    Item(
        "Hai bài cùng giờ: bài B về đảng viên",
        "<p>Nội dung B.</p>",
        categories=("Xây dựng Đảng",),
        hours_ago=17,
    ),
    Item(
        "Kinh tế quý I tăng trưởng khả quan",
        "<p>Tổng sản phẩm trên địa bàn tăng 7,5%; thu ngân sách đạt 30% dự toán.</p>",
        "Nhiều chỉ tiêu kinh tế vượt kế hoạch.",
        ("Kinh tế",),
        hours_ago=18,
        author="Nguyễn Văn Đức",
    ),
    # Never found: not published, or no longer.
    Item("Bản nháp về Đảng Cộng sản", "<p>Chưa duyệt: đảng cộng sản.</p>", status="draft", hours_ago=0),
    Item(
        "Bài hẹn giờ về Đảng Cộng sản",
        "<p>Sẽ đăng sau: đảng cộng sản.</p>",
        categories=("Thời sự",),
        status="scheduled",
        hours_ago=0,
    ),
    Item(
        "Bài đã gỡ về Đảng Cộng sản",
        "<p>Đã gỡ: đảng cộng sản.</p>",
        categories=("Thời sự",),
        status="withdrawn",
        hours_ago=0,
    ),
)

# Queries asked of both databases; the results must be the same, rank by rank.
QUERIES: tuple[tuple[str, str | None], ...] = (
    ("dang cong san", None),
    ("Đảng Cộng sản", None),
    ("Đảng", None),
    ("đang", None),
    ("dang", None),
    ("ĐẢNG", "xay-dung-dang"),
    ("đảng viên", None),
    ("hoà khánh", None),
    ("hòa khánh", None),
    ("hoa khanh", None),
    ("thủy", None),
    ("thuỷ lợi", None),
    ("san", None),
    ("cộng sản", "thoi-su"),
    ("kinh tế", "kinh-te"),
    ("covid 19", None),
    ("covid19", None),
    ("3/2/1930", None),
    ("nguyen van duc", None),
    ("Nguyễn Đăng", None),
    ("sạt lở", None),
    ("script", None),
    ("khong co dau nao ca", None),
    ("dang", "du-lich"),
)


def load(session: Session) -> dict[str, int]:
    """Write ITEMS through the domain functions (so the index is kept as in production);
    returns each title's article id."""
    from config.settings import get_settings
    from service.articles.editorial import OPERATOR
    from service.articles.schemas import ArticleCreate
    from service.articles.service import create_article, withdraw_article

    settings = get_settings()
    ids: dict[str, int] = {}
    for item in ITEMS:
        now = T0 - timedelta(hours=item.hours_ago)
        data = ArticleCreate(
            title=item.title,
            body_html=item.body,
            summary=item.summary,
            categories=list(item.categories),
            author=item.author,
            image_caption=item.caption,
            status="draft" if item.status == "draft" else "published",
            publish_at=now + timedelta(days=30) if item.status == "scheduled" else None,
        )
        article = create_article(session, data, now, settings, OPERATOR).article
        if item.status == "withdrawn":
            withdraw_article(session, article.id, now, settings, OPERATOR)
        ids[item.title] = article.id
    return ids
