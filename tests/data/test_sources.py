"""Reading pictures without torch: flat folders, EXIF orientation, colour modes, resize then crop,
and the same pixels as the torch datasets and torchvision's transforms."""
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from convatlas.core.errors import DatasetError
from convatlas.data import Pictures
from convatlas.data.datasets import load_split, probe_split
from convatlas.data.sources import list_image_folder, read_picture
from convatlas.workflow.datasets import dataset_spec


def photo(path, size=(40, 30), mode="RGB", seed=0, **save):
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (size[1], size[0], 4 if mode in ("RGBA", "CMYK") else 3), dtype=np.uint8)
    image = Image.fromarray(array, "RGBA" if mode in ("RGBA", "CMYK") else "RGB")
    image = image.convert(mode) if mode != "RGBA" else image
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **save)
    return path


def test_resize_then_centre_crop_equals_torchvision(tmp_path):
    path = photo(tmp_path / "a.png", (50, 37))
    got = read_picture(path, 32, 24)
    with Image.open(path) as image:
        expected = TF.pil_to_tensor(TF.center_crop(TF.resize(image.convert("RGB"), 32), 24)).numpy()
    assert got.shape == (3, 24, 24) and np.array_equal(got, expected)


def test_exif_orientation_and_colour_modes(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the upright picture is 30 wide, 40 high
    rotated = photo(tmp_path / "r.jpg", (40, 30), exif=exif, quality=95)
    upright = read_picture(rotated, 30, 30)
    with Image.open(rotated) as image:
        assert image.size == (40, 30)
        turned = TF.pil_to_tensor(TF.center_crop(TF.resize(image.transpose(Image.ROTATE_270).convert("RGB"), 30), 30))
    assert np.array_equal(upright, turned.numpy())
    for mode, name in (("L", "g.png"), ("RGBA", "a.png"), ("CMYK", "c.jpg"), ("P", "p.png")):
        assert read_picture(photo(tmp_path / name, mode=mode), 16).shape == (3, 16, 16), mode
    webp = photo(tmp_path / "w.webp")
    assert read_picture(webp, 16).shape == (3, 16, 16)


def test_flat_folder_is_unlabelled(tmp_path):
    for i in range(3):
        photo(tmp_path / "flat" / f"{i}.jpg", seed=i)
    (tmp_path / "flat" / "notes.txt").write_text("not an image")
    files, labels, classes = list_image_folder(tmp_path / "flat", "test")
    assert [f.name for f in files] == ["0.jpg", "1.jpg", "2.jpg"] and labels.tolist() == [-1, -1, -1] and classes == []
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DatasetError, match="empty has no images .*neither in class sub-folders nor directly in it"):
        list_image_folder(tmp_path / "empty", "test")


def test_pictures_equal_the_torch_datasets(tmp_path):
    for cls in ("cats", "dogs"):
        for i in range(2):
            photo(tmp_path / "photos" / cls / f"{i}.png", (45, 33), seed=hash((cls, i)) % 100)
    folder = dataset_spec({"kind": "imagefolder", "root": str(tmp_path / "photos"), "resize": 20, "crop": 16})
    pictures, split = Pictures(folder), probe_split(folder)
    assert pictures.classes == split.classes == ["cats", "dogs"] and pictures.size == 16
    assert np.array_equal(pictures.images([3, 0]), split.images(torch.tensor([3, 0])).numpy())
    fashion_like = dataset_spec({"kind": "synthetic", "image_size": 20, "probe_limit": 10})
    pictures, split = Pictures(fashion_like), load_split(fashion_like, "test")
    assert len(pictures) == 10 and np.array_equal(pictures.images([9, 2]), split.images(torch.tensor([9, 2])).numpy())


def test_channel_conversion_matches_pillow():
    from convatlas.data.sources import convert_channels

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (3, 3, 5, 7), dtype=np.uint8)
    grey = convert_channels(rgb, 1)
    pillow = np.stack([np.asarray(Image.fromarray(image.transpose(1, 2, 0)).convert("L")) for image in rgb])[:, None]
    assert grey.shape == (3, 1, 5, 7) and np.abs(grey.astype(int) - pillow).max() <= 1
    back = convert_channels(grey, 3)
    assert back.shape == (3, 3, 5, 7) and (back == grey).all()
    assert convert_channels(rgb, None) is rgb and convert_channels(rgb, 3) is rgb


def test_an_empty_class_folder_is_named_in_a_warning(tmp_path):
    from PIL import Image

    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
    (tmp_path / "zebra").mkdir()  # no images
    for name in ("cat", "dog"):
        Image.new("RGB", (8, 8)).save(tmp_path / name / "a.png")
    with pytest.warns(UserWarning, match=r"class folder\(s\) zebra hold no images and are left out"):
        files, labels, classes = list_image_folder(tmp_path, "test")
    assert classes == ["cat", "dog"] and labels.tolist() == [0, 1]


def test_a_folder_without_test_split_holds_out_a_stable_share_of_each_class(tmp_path):
    """held_out: train and test partition every class folder, chosen by file name; an added photo
    moves no old one into the test split; a folder with train/ only reads train/ for both splits."""
    for cls, count in (("cats", 10), ("dogs", 5)):
        for i in range(count):
            photo(tmp_path / "photos" / cls / f"{i}.png", (8, 8), seed=i)
    root = tmp_path / "photos"
    train, train_labels, classes = list_image_folder(root, "train", held_out=0.2)
    test, test_labels, _ = list_image_folder(root, "test", held_out=0.2)
    assert classes == ["cats", "dogs"] and not set(train) & set(test)
    assert sorted(train + test) == sorted(list_image_folder(root, "train")[0])  # together: the whole folder
    assert np.bincount(test_labels).tolist() == [2, 1] and np.bincount(train_labels).tolist() == [8, 4]
    photo(root / "cats" / "new.png", (8, 8), seed=99)
    test_after = list_image_folder(root, "test", held_out=0.2)[0]
    assert set(test_after) - {root / "cats" / "new.png"} <= set(test)  # no old photo moved into the test split
    assert len(set(test) - set(test_after)) <= 1  # at most one displaced by the new one
    # without held_out, both splits are the whole folder (a model analysed as loaded looks at all of it)
    assert list_image_folder(root, "test")[0] == list_image_folder(root, "train")[0]
    (tmp_path / "split" / "train" / "cats").mkdir(parents=True)
    photo(tmp_path / "split" / "train" / "cats" / "a.png", (8, 8))
    files, _, classes = list_image_folder(tmp_path / "split", "test")
    assert classes == ["cats"] and [f.name for f in files] == ["a.png"]  # not a class named "train"


def test_a_greyscale_photo_among_rgb_ones_is_read_as_rgb_with_equal_channels(tmp_path):
    for i in range(2):
        photo(tmp_path / "photos" / "cats" / f"{i}.jpg", (20, 16), seed=i)
    photo(tmp_path / "photos" / "cats" / "grey.jpg", (20, 16), mode="L", seed=5)
    folder = dataset_spec({"kind": "imagefolder", "root": str(tmp_path / "photos"), "image_size": 16})
    batch = load_split(folder, "test").images(torch.arange(3))
    pictures = Pictures(folder).images([0, 1, 2])
    assert batch.shape == (3, 3, 16, 16) and np.array_equal(batch.numpy(), pictures)
    grey = batch[2]  # files sort as 0.jpg, 1.jpg, grey.jpg
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2]) and not torch.equal(batch[0][0], batch[0][1])
